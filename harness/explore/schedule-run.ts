// One run of a drawn schedule on a fresh simulation, and what exploration keeps of it
// (docs/simulator.md, "Exploration"): the invariants violated and left unknown, or why the run
// failed. The same function runs on the main thread and in explore's worker threads, so a
// schedule gives the same outcome wherever it ran.

import type { Flaw, ProfileName } from "../../pipeline/core/flaws.ts";
import type { Experiment } from "../experiment/definition.ts";
import type { Journal } from "../experiment/journal.ts";
import { runOnSimulator } from "../experiment/sim-run.ts";
import { INVARIANT_NAMES, type InvariantName, type InvariantStatus } from "../invariants/types.ts";
import { scheduleExperiment, type Schedule, type ScheduleStep } from "./schedule.ts";

/** What a schedule runs with: the pipeline's profile, its flaws and the seed of every run. */
export interface RunSetting {
  profile: ProfileName;
  /** Replaces the profile's flaws (e.g. one flaw alone). */
  flaws?: Flaw[];
  seed: number;
}

export interface Outcome {
  violated: InvariantName[];
  unknown: InvariantName[];
  failed: string | null;
  journal: Journal | null;
}

/**
 * What the drawing phase keeps of a run: no journal (a worker thread sends this back), only the
 * summaries of the invariants left unknown, for the first unknown run's report.
 */
export interface DrawnOutcome {
  violated: InvariantName[];
  unknown: Array<{ name: InvariantName; summary: string }>;
  failed: string | null;
}

export type SeenStatuses = Record<InvariantStatus, InvariantName[]>;

/** Which invariants the run found held, violated and unknown, in the order of INVARIANT_NAMES. */
export function seenStatuses(journal: Journal): SeenStatuses {
  const seen: SeenStatuses = { held: [], violated: [], unknown: [] };
  for (const name of INVARIANT_NAMES) {
    const status = journal.verdict?.invariants[name]?.status;
    if (status !== undefined) seen[status].push(name);
  }
  return seen;
}

export function scheduleOf(steps: readonly ScheduleStep[], setting: RunSetting): Schedule {
  return {
    spillway: "schedule",
    version: 1,
    base: "explore",
    profile: setting.profile,
    ...(setting.flaws === undefined ? {} : { flaws: setting.flaws }),
    seed: setting.seed,
    steps: [...steps],
  };
}

export async function runSchedule(
  scenario: Experiment,
  steps: readonly ScheduleStep[],
  setting: RunSetting,
): Promise<Outcome> {
  const experiment = scheduleExperiment(scenario, scheduleOf(steps, setting));
  try {
    const { journal } = await runOnSimulator(experiment, {
      profile: setting.profile,
      ...(setting.flaws === undefined ? {} : { flaws: setting.flaws }),
      seed: setting.seed,
    });
    const seen = seenStatuses(journal);
    return {
      violated: seen.violated,
      unknown: seen.unknown,
      failed:
        journal.status === "completed"
          ? null
          : `the run ${journal.status}: ${journal.error?.split("\n")[0] ?? "no error recorded"}`,
      journal,
    };
  } catch (error) {
    // The simulation itself stopped the run (a livelock, a stall): a bug worth a schedule.
    return {
      violated: [],
      unknown: [],
      failed: `the simulation stopped: ${(error as Error).message}`,
      journal: null,
    };
  }
}

export function drawnOutcome(outcome: Outcome): DrawnOutcome {
  return {
    violated: outcome.violated,
    unknown: outcome.unknown.map((name) => ({
      name,
      summary: outcome.journal?.verdict?.invariants[name]?.summary ?? "",
    })),
    failed: outcome.failed,
  };
}

/** Whether a run is what exploration looks for: a failed run, or a violation (of `target`). */
export function isBad(
  outcome: Pick<Outcome, "violated" | "failed">,
  target: InvariantName | undefined,
): boolean {
  return (
    outcome.failed !== null ||
    (target === undefined ? outcome.violated.length > 0 : outcome.violated.includes(target))
  );
}
