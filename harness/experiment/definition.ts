// An experiment (docs/architecture.md §6): topology and profile, workload, a steady-state
// hypothesis, a timed method of faults, rollbacks that always run, drain, the invariants to check
// and the expected outcome per profile. Written as a TypeScript module (`defineExperiment`) or a
// JSON/YAML file; both are checked here, once, against one schema, with errors that name the
// path, the value and the expectation.

import { z } from "zod";
import { FLAW_NAMES, PROFILE_NAMES } from "../../pipeline/core/flaws.ts";
import { resolveLimits } from "../../pipeline/core/limits.ts";
import { INDETERMINATE_SHARE_MAX_DEFAULT } from "../invariants/no-silent-loss.ts";
import { INVARIANT_NAMES } from "../invariants/types.ts";
import { workloadOptionsSchema } from "../workload/options.ts";
import { abortSchema } from "./abort.ts";
import { durationSchema } from "./duration.ts";

/** A fault step as written: `{ kind: "process.kill", service: "buffer", ... }`. */
const faultStepSchema = z.looseObject({
  kind: z.string({ error: 'expected a fault kind, e.g. "process.kill"' }),
});

const limitsSchema = z.record(z.string(), z.unknown()).superRefine((limits, context) => {
  try {
    resolveLimits(limits);
  } catch (error) {
    context.addIssue({ code: "custom", input: limits, message: (error as Error).message });
  }
});

const outcomeSchema = z.enum(["held", "violated"]);

const notAShare = { error: "expected a share from 0 to 1 (0.01 is 1%)" };
const shareSchema = z.number(notAShare).min(0, notAShare).max(1, notAShare);

export const experimentSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, "expected a name of a-z, 0-9 and -"),
  description: z.string().min(1).max(2_000),
  /**
   * The target file this experiment runs on (docs/targets.md), relative to the experiment's
   * file; without it, the reference pipeline. `--target` overrides it.
   */
  target: z.string().min(1).optional(),
  /** The profile a plain `spillway run` uses; `--profile` and `--compare` override it. */
  profile: z.enum(PROFILE_NAMES).default("hardened"),
  flaws: z.array(z.enum(FLAW_NAMES)).optional(),
  topology: z
    .strictObject({
      sinks: z.number().int().min(1).max(16).default(2),
      /** Put a fault proxy on every link (automatic when a network or sink.down fault is used). */
      proxies: z.boolean().default(false),
      limits: limitsSchema.optional(),
      /** A memory cap per service, in MB, enforced by the runtime (killed when over). */
      memoryCapMb: z.record(z.string(), z.number().positive().max(65_536)).optional(),
      /** The memory bound of the bounded-buffer invariant, in MB of the buffer's RSS. */
      maxBufferMemoryMb: z.number().positive().max(65_536).default(512),
      /** The sinks answer every push after this long: a remote destination's round trip. */
      sinkLatencyMs: z.number().int().min(0).max(60_000).default(0),
    })
    .default({ sinks: 2, proxies: false, maxBufferMemoryMb: 512, sinkLatencyMs: 0 }),
  workload: workloadOptionsSchema.default(workloadOptionsSchema.parse({})),
  /** How long the workload runs, from the start (faults happen inside this window). */
  duration: durationSchema,
  /** Time before the steady-state hypothesis is first checked. */
  warmup: durationSchema.default(2_000),
  steadyState: z
    .strictObject({
      /** Every service answers /healthz with 200. */
      healthy: z.boolean().default(true),
      /** The forwarder acknowledges events during a probe window of this length. */
      deliveringWithin: durationSchema.default(2_000),
      /** How long the hypothesis may take to hold (a busy machine is slow to settle). */
      timeout: durationSchema.default(15_000),
      /**
       * After the faults: the share of the offered load (events the workload produced during a
       * probe window) the pipeline must accept (acknowledge) again, not only answer /healthz.
       */
      acceptanceShareMin: z.number().min(0).max(1).default(0.9),
    })
    .default({ healthy: true, deliveringWithin: 2_000, timeout: 15_000, acceptanceShareMin: 0.9 }),
  method: z
    .array(
      z.strictObject({
        /** Offset from the end of the warmup. */
        at: durationSchema,
        /** How long the fault lasts; without it the fault lasts until the rollbacks. */
        for: durationSchema.optional(),
        fault: faultStepSchema,
        note: z.string().max(500).optional(),
      }),
    )
    .max(200)
    .default([]),
  /**
   * The brake (docs/architecture.md §6, "Abort conditions"): checked while the method runs; the
   * first that trips stops it, and the run heals, rolls back, drains and is journaled aborted.
   */
  abort: abortSchema,
  /** Actions run after the method, always (also on failure and interruption). */
  rollbacks: z.array(faultStepSchema).max(50).default([]),
  drain: z
    .strictObject({
      timeout: durationSchema.default(30_000),
      /**
       * On a target: how long nothing new may reach the recorders before what is missing counts
       * as not coming (docs/targets.md, "Pitfalls": longer than the pipeline's retry interval).
       */
      quiet: durationSchema.default(3_000),
    })
    .default({ timeout: 30_000, quiet: 3_000 }),
  /** The recovery invariant's bound: from the last heal to empty buffer and healthy services. */
  recoveryBound: durationSchema.default(30_000),
  invariants: z
    .array(z.enum(INVARIANT_NAMES))
    .min(1)
    .default([...INVARIANT_NAMES]),
  /** How the invariants judge (docs/architecture.md §5). */
  verdict: z
    .strictObject({
      /**
       * no-silent-loss answers unknown, not held, when more than this share of the expected
       * events are indeterminate (their outcome unknown to the producer, or produced near a
       * job change).
       */
      indeterminateShareMax: shareSchema.default(INDETERMINATE_SHARE_MAX_DEFAULT),
    })
    .default({ indeterminateShareMax: INDETERMINATE_SHARE_MAX_DEFAULT }),
  /**
   * How the experiment scales down on the simulator, which runs every event through the real
   * component code in one thread: workload fields and topology limits/caps that replace the
   * experiment's own there. The method (the schedule) is the same on every runtime.
   */
  simulator: z
    .strictObject({
      workload: z.record(z.string(), z.unknown()).optional(),
      topology: z
        .strictObject({
          limits: limitsSchema.optional(),
          memoryCapMb: z.record(z.string(), z.number().positive().max(65_536)).optional(),
          maxBufferMemoryMb: z.number().positive().max(65_536).optional(),
        })
        .optional(),
    })
    .optional(),
  /** Expected invariant outcomes per profile (per variant on a target); missing ones: held. */
  expect: z
    .record(
      z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "expected a profile or variant name"),
      z.partialRecord(z.enum(INVARIANT_NAMES), outcomeSchema),
    )
    .optional(),
});

export type ExperimentInput = z.input<typeof experimentSchema>;
export type Experiment = z.output<typeof experimentSchema>;
export type MethodStep = Experiment["method"][number];
export type FaultStep = MethodStep["fault"];

/** Types an experiment written in TypeScript; it is validated when loaded. */
export function defineExperiment(experiment: ExperimentInput): ExperimentInput {
  return experiment;
}

export class ExperimentError extends Error {
  readonly problems: string[];
  constructor(where: string, problems: string[], what = "experiment") {
    super(
      `${where} is not a valid ${what}:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`,
    );
    this.name = "ExperimentError";
    this.problems = problems;
  }
}

function describeValue(value: unknown): string {
  if (value === undefined) return "missing";
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  let text = "";
  for (const part of path)
    text +=
      typeof part === "number" ? `[${part}]` : text === "" ? String(part) : `.${String(part)}`;
  return text === "" ? "(top level)" : text;
}

/** Parses `input` with `schema`; throws ExperimentError naming each path, value and expectation. */
export function parseWithSchema<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  where: string,
  what = "experiment",
): z.output<Schema> {
  const result = schema.safeParse(input, { reportInput: true });
  if (!result.success) {
    throw new ExperimentError(
      where,
      result.error.issues.map((issue) => {
        const value = "input" in issue ? describeValue(issue.input) : "invalid";
        return `${formatPath(issue.path)}: ${value}: ${issue.message}`;
      }),
      what,
    );
  }
  return result.data;
}

/** Validates against the schema; throws ExperimentError naming each path, value and expectation. */
export function parseExperiment(input: unknown, where: string): Experiment {
  return parseWithSchema(experimentSchema, input, where);
}
