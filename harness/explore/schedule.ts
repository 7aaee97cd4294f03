// A fault schedule as data (docs/architecture.md §7): a list of (offset, fault with its target,
// duration) on a base experiment, with the profile, flaws and seed it ran with. The same file runs
// on the simulator and on processes (`spillway replay`); an experiment's method is a schedule too.

import { readFile, writeFile } from "node:fs/promises";
import { z } from "zod";
import { FLAW_NAMES, PROFILE_NAMES } from "../../pipeline/core/flaws.ts";
import {
  ExperimentError,
  parseExperiment,
  parseWithSchema,
  type Experiment,
} from "../experiment/definition.ts";
import { durationSchema } from "../experiment/duration.ts";
import { loadExperiment } from "../experiment/load.ts";
import { FaultStepError, parseFaultStep } from "../faults/registry.ts";
import { INVARIANT_NAMES } from "../invariants/types.ts";
import { exploreScenario } from "./scenario.ts";

export const SCHEDULE_EXPECTATIONS = ["reproduce", "hold"] as const;
export type ScheduleExpectation = (typeof SCHEDULE_EXPECTATIONS)[number];

const stepSchema = z.strictObject({
  /** Offset from the end of the warmup, in ms (or a duration such as "3s"). */
  at: durationSchema,
  /** How long the fault lasts before it heals; without it, until the end of the method. */
  for: durationSchema.optional(),
  fault: z.looseObject({ kind: z.string() }),
});

export const scheduleSchema = z.strictObject({
  spillway: z.literal("schedule", { error: 'expected "schedule" (this marks a schedule file)' }),
  version: z.literal(1, { error: "expected 1" }),
  /** The experiment the steps run on: "explore" (the built-in scenario), a name or a path. */
  base: z.string().min(1).default("explore"),
  profile: z.enum(PROFILE_NAMES),
  /** Replaces the profile's flaws when given. */
  flaws: z.array(z.enum(FLAW_NAMES)).optional(),
  seed: z
    .number()
    .int()
    .min(0)
    .max(2 ** 32 - 1),
  /** The invariant this schedule violated where it was found (replays check it). */
  invariant: z.enum(INVARIANT_NAMES).optional(),
  /**
   * What a replay must see: "reproduce", the invariant violated; "hold", every invariant held
   * (a fixed bug's schedule, whose `invariant` says what it used to break). Default: reproduce
   * when `invariant` is given, else hold.
   */
  expect: z.enum(SCHEDULE_EXPECTATIONS).optional(),
  /** One line for people: what it found, and for a fixed bug the fix (docs/simulator.md). */
  note: z
    .string()
    .min(1)
    .max(1_000)
    .regex(/^[^\n]*$/, { error: "expected one line" })
    .optional(),
  steps: z.array(stepSchema).max(200),
  /** Where and how it was found: free-form, for people. */
  found: z.record(z.string(), z.unknown()).optional(),
});

export type Schedule = z.output<typeof scheduleSchema>;
export type ScheduleStep = Schedule["steps"][number];

/** Validates a schedule and each step's fault; errors name the path, the value and the rule. */
export function parseSchedule(input: unknown, where: string): Schedule {
  const marker =
    typeof input === "object" && input !== null
      ? (input as Record<string, unknown>).spillway
      : undefined;
  if (marker !== "schedule") {
    throw new ExperimentError(
      where,
      [
        `spillway: ${JSON.stringify(marker) ?? "missing"}: expected "schedule": this is not a schedule file (an experiment runs with \`spillway run ${where} --runtime sim\`)`,
      ],
      "schedule",
    );
  }
  const schedule = parseWithSchema(scheduleSchema, input, where, "schedule");
  const problems: string[] = [];
  if (schedule.expect === "reproduce" && schedule.invariant === undefined) {
    problems.push(
      'invariant: missing: expect "reproduce" needs the invariant the schedule is to violate',
    );
  }
  schedule.steps.forEach((step, index) => {
    try {
      parseFaultStep(step.fault, `steps[${index}].fault`);
    } catch (error) {
      if (error instanceof FaultStepError) problems.push(...error.problems);
      else throw error;
    }
  });
  if (problems.length > 0) throw new ExperimentError(where, problems, "schedule");
  return schedule;
}

/** What a replay of the schedule must see (its `expect`, or the default from `invariant`). */
export function expectedOutcome(schedule: Schedule): ScheduleExpectation {
  return schedule.expect ?? (schedule.invariant === undefined ? "hold" : "reproduce");
}

export async function readSchedule(file: string): Promise<Schedule> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    throw new ExperimentError(file, [`cannot be read: ${(error as Error).message}`]);
  }
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    throw new ExperimentError(file, [`is not JSON: ${(error as Error).message}`]);
  }
  return parseSchedule(input, file);
}

export async function writeSchedule(file: string, schedule: Schedule): Promise<void> {
  await writeFile(file, JSON.stringify(schedule, null, 2) + "\n");
}

/** The base experiment of a schedule. */
export async function baseExperiment(base: string): Promise<Experiment> {
  return base === "explore" ? exploreScenario() : loadExperiment(base);
}

/** The experiment that runs a schedule: the base with its method replaced by the steps. */
export function scheduleExperiment(base: Experiment, schedule: Schedule): Experiment {
  return parseExperiment(
    {
      ...base,
      profile: schedule.profile,
      method: schedule.steps.map((step) => ({
        at: step.at,
        ...(step.for === undefined ? {} : { for: step.for }),
        fault: step.fault,
      })),
      // The expectations belong to the base's own method, not to this schedule.
      expect: undefined,
    },
    "the schedule's experiment",
  );
}

/** An experiment's method as a schedule (its rollbacks and expectations stay with it). */
export function experimentSchedule(
  experiment: Experiment,
  options: { base: string; profile: Schedule["profile"]; seed: number; flaws?: Schedule["flaws"] },
): Schedule {
  return {
    spillway: "schedule",
    version: 1,
    base: options.base,
    profile: options.profile,
    ...(options.flaws === undefined ? {} : { flaws: options.flaws }),
    seed: options.seed,
    steps: experiment.method.map((step) => ({
      at: step.at,
      ...(step.for === undefined ? {} : { for: step.for }),
      fault: step.fault,
    })),
  };
}

/** The command that replays one schedule file on a runtime. */
export function replayCommandLine(file: string, runtime: string): string {
  return `spillway replay ${file} --runtime ${runtime}`;
}

/** The commands that replay a saved schedule, on the simulator and on processes. */
export function replayCommandLines(file: string): string[] {
  return ["sim", "process"].map((runtime) => replayCommandLine(file, runtime));
}
