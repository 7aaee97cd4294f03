// Property-based exploration of fault schedules on the simulator (docs/architecture.md §7): fast-check
// draws schedules, each runs on a fresh simulation and every invariant is checked; the first
// violation is shrunk by fast-check (fewer, earlier, shorter, simpler faults), then simplified
// further — each step dropped, or replaced by a simpler kind of its family, while the same
// invariant still breaks — and returned with
// its evidence as a schedule file that replays on the simulator and on processes. A drawn run
// that breaks nothing but leaves an invariant unknown is neither a violation found nor a pass:
// such runs are counted apart, and the first is kept to replay.

import fc from "fast-check";
import type { Flaw, ProfileName } from "../../pipeline/core/flaws.ts";
import type { Experiment } from "../experiment/definition.ts";
import type { Journal } from "../experiment/journal.ts";
import { referenceTopology } from "../experiment/reference-topology.ts";
import { runOnSimulator } from "../experiment/sim-run.ts";
import type { FaultFamily } from "../faults/fault.ts";
import {
  INVARIANT_NAMES,
  type InvariantName,
  type InvariantResult,
  type InvariantStatus,
} from "../invariants/types.ts";
import { parseTopology } from "../runtime/topology.ts";
import { selectJobTenants, tenantNames } from "../workload/tenants.ts";
import {
  kindsOf,
  makeStep,
  normalizeSteps,
  scheduleArbitrary,
  type KindSpec,
  type ScheduleWorld,
} from "./generators.ts";
import { exploreScenario, MIN_FAULT_MS } from "./scenario.ts";
import { scheduleExperiment, type Schedule, type ScheduleStep } from "./schedule.ts";

const DEFAULT_MAX_SHRINK_RUNS = 150;

export interface ExploreOptions {
  profile: ProfileName;
  /** Replaces the profile's flaws (e.g. one flaw alone). */
  flaws?: Flaw[];
  /** Schedules to try before concluding nothing breaks. */
  runs: number;
  seed: number;
  /** Stop drawing new schedules after this long (wall clock); shrinking stops too. */
  timeLimitMs?: number;
  /** Draw only faults of these families. */
  families?: FaultFamily[];
  /** Look for (and shrink towards) a violation of this invariant only. */
  invariant?: InvariantName;
  /** Most faults in one schedule. */
  maxSteps?: number;
  /** Most runs fast-check may spend shrinking (then the smallest failure so far is kept). */
  maxShrinkRuns?: number;
  /** Called after every simulated run (drawn or shrinking). */
  onRun?: (run: {
    index: number;
    steps: readonly ScheduleStep[];
    violated: InvariantName[];
    failed: string | null;
  }) => void;
}

/** A drawn schedule that broke nothing but left some invariant unknown: not a pass. */
export interface UnknownRun {
  steps: ScheduleStep[];
  invariants: Array<{ name: InvariantName; summary: string }>;
}

export interface ExploreResult {
  found: boolean;
  /** Schedules drawn and run before the first violation (or all of them). */
  runs: number;
  /** Of those, the runs in which every invariant looked at held. */
  heldRuns: number;
  /**
   * Of those, the runs that broke nothing but left an invariant looked at unknown: neither a
   * violation found nor a pass, counted apart.
   */
  unknownRuns: number;
  /** How many of the unknown runs left each invariant unknown. */
  unknownByInvariant: Partial<Record<InvariantName, number>>;
  /** The first unknown run's schedule and what was unknown, to replay it. */
  firstUnknown: UnknownRun | null;
  /** Further runs spent shrinking and simplifying the violation. */
  shrinkRuns: number;
  seed: number;
  profile: ProfileName;
  flaws: Flaw[] | null;
  families: FaultFamily[] | null;
  /** The invariant the minimal schedule violates (the targeted one when given). */
  invariant: InvariantName | null;
  /** Its one-line summary and evidence from the minimal schedule's run. */
  summary: string | null;
  evidence: Record<string, unknown> | null;
  /** A run that failed rather than violated (a harness error), with its message. */
  error: string | null;
  schedule: Schedule | null;
  /** Whether the time limit cut the exploration short. */
  interrupted: boolean;
  elapsedMs: number;
}

interface Outcome {
  violated: InvariantName[];
  unknown: InvariantName[];
  failed: string | null;
  journal: Journal | null;
}

/** The scenario's services, sinks, links and tenants, for the generators to name. */
export function scenarioWorld(scenario: Experiment = exploreScenario()): ScheduleWorld {
  const jobTenants = selectJobTenants(scenario.workload);
  const all = tenantNames(scenario.workload.tenants);
  const otherTenants = all.filter((tenant) => !jobTenants.includes(tenant));
  const topology = parseTopology(
    referenceTopology({
      profile: "hardened",
      sinks: scenario.topology.sinks,
      jobs: [],
      datasets: scenario.workload.datasets,
    }),
  );
  return {
    services: topology.services.map((service) => service.name),
    sinks: topology.services
      .filter((service) => service.component === "sink")
      .map((service) => service.name),
    links: topology.links.map((link) => link.name),
    tenants: [...jobTenants, ...otherTenants],
    jobTenants,
    otherTenants: otherTenants.length > 0 ? otherTenants : jobTenants,
    datasets: scenario.workload.datasets,
    newDataset: "dns_logs",
  };
}

function withStatus(journal: Journal, status: InvariantStatus): InvariantName[] {
  const results = journal.verdict?.invariants ?? {};
  return INVARIANT_NAMES.filter((name) => results[name]?.status === status);
}

export function scheduleOf(steps: readonly ScheduleStep[], options: ExploreOptions): Schedule {
  return {
    spillway: "schedule",
    version: 1,
    base: "explore",
    profile: options.profile,
    ...(options.flaws === undefined ? {} : { flaws: options.flaws }),
    seed: options.seed,
    steps: [...steps],
  };
}

export async function explore(options: ExploreOptions): Promise<ExploreResult> {
  const started = Date.now();
  const scenario = exploreScenario();
  const world = scenarioWorld(scenario);
  const kinds = kindsOf(options.families);
  let runIndex = 0;
  let drawn = 0;
  let found = false;
  let heldRuns = 0;
  const unknownByInvariant: Partial<Record<InvariantName, number>> = {};
  let unknownRuns = 0;
  let firstUnknown: UnknownRun | null = null;

  /** Counts a drawn run that broke nothing: held, or unknown for the invariants looked at. */
  function tally(steps: readonly ScheduleStep[], outcome: Outcome): void {
    const unknown = outcome.unknown.filter(
      (name) => options.invariant === undefined || name === options.invariant,
    );
    if (unknown.length === 0) {
      heldRuns++;
      return;
    }
    unknownRuns++;
    for (const name of unknown) unknownByInvariant[name] = (unknownByInvariant[name] ?? 0) + 1;
    firstUnknown ??= {
      steps: [...steps],
      invariants: unknown.map((name) => ({
        name,
        summary: outcome.journal?.verdict?.invariants[name]?.summary ?? "",
      })),
    };
  }

  async function run(steps: readonly ScheduleStep[]): Promise<Outcome> {
    const experiment = scheduleExperiment(scenario, scheduleOf(steps, options));
    let outcome: Outcome;
    try {
      const { journal } = await runOnSimulator(experiment, {
        profile: options.profile,
        ...(options.flaws === undefined ? {} : { flaws: options.flaws }),
        seed: options.seed,
      });
      outcome = {
        violated: withStatus(journal, "violated"),
        unknown: withStatus(journal, "unknown"),
        failed:
          journal.status === "completed"
            ? null
            : `the run ${journal.status}: ${journal.error?.split("\n")[0] ?? "no error recorded"}`,
        journal,
      };
    } catch (error) {
      // The simulation itself stopped the run (a livelock, a stall): a bug worth a schedule.
      outcome = {
        violated: [],
        unknown: [],
        failed: `the simulation stopped: ${(error as Error).message}`,
        journal: null,
      };
    }
    options.onRun?.({
      index: runIndex++,
      steps,
      violated: outcome.violated,
      failed: outcome.failed,
    });
    return outcome;
  }

  const bad = (outcome: Outcome, target: InvariantName | undefined): boolean =>
    outcome.failed !== null ||
    (target === undefined ? outcome.violated.length > 0 : outcome.violated.includes(target));

  const property = fc.asyncProperty(
    scheduleArbitrary(kinds, world, options.maxSteps),
    async (steps) => {
      if (!found) drawn++;
      // Past the budget every further candidate "passes", so fast-check keeps the last failure.
      else if (runIndex - drawn >= (options.maxShrinkRuns ?? DEFAULT_MAX_SHRINK_RUNS)) return true;
      const outcome = await run(steps);
      if (bad(outcome, options.invariant)) {
        found = true;
        return false;
      }
      if (!found) tally(steps, outcome);
      return true;
    },
  );
  const details = await fc.check(property, {
    seed: options.seed,
    numRuns: options.runs,
    ...(options.timeLimitMs === undefined
      ? {}
      : { interruptAfterTimeLimit: options.timeLimitMs, markInterruptAsFailure: false }),
  });
  const base = {
    heldRuns,
    unknownRuns,
    unknownByInvariant,
    firstUnknown,
    seed: options.seed,
    profile: options.profile,
    flaws: options.flaws ?? null,
    families: options.families ?? null,
    interrupted: details.interrupted,
  };
  const counterexample = details.counterexample?.[0];
  if (!details.failed || counterexample === undefined) {
    return {
      ...base,
      found: false,
      runs: drawn,
      shrinkRuns: 0,
      invariant: null,
      summary: null,
      evidence: null,
      error: null,
      schedule: null,
      elapsedMs: Date.now() - started,
    };
  }

  // The shrunk schedule's violation decides what to keep breaking while simplifying.
  let outcome = await run(counterexample);
  const target = options.invariant ?? outcome.violated[0];
  // A failed run is never a simpler instance of a violation (nor the reverse).
  const stillBad = (candidate: Outcome): boolean =>
    target === undefined
      ? candidate.failed !== null
      : candidate.failed === null && candidate.violated.includes(target);
  const simplified = await simplify(counterexample, kinds, world, async (steps) => {
    const candidate = await run(steps);
    if (!stillBad(candidate)) return false;
    outcome = candidate;
    return true;
  });
  const result: InvariantResult | undefined =
    target === undefined ? undefined : outcome.journal?.verdict?.invariants[target];
  return {
    ...base,
    found: true,
    runs: drawn,
    shrinkRuns: runIndex - drawn,
    invariant: target ?? null,
    summary: result?.summary ?? null,
    evidence: result?.evidence ?? null,
    error: outcome.failed,
    schedule: {
      ...scheduleOf(simplified, options),
      ...(target === undefined ? {} : { invariant: target }),
      found: {
        runtime: "sim",
        by: "spillway explore",
        runs: drawn,
        ...(options.families === undefined ? {} : { families: options.families }),
      },
    },
    elapsedMs: Date.now() - started,
  };
}

/**
 * Greedy simplification after fast-check's shrinking, until nothing changes: drop each step,
 * and replace each by the simplest fault of each simpler kind of its family (KIND_SPECS order),
 * keeping its time and duration. A change is kept when `stillBreaks` says the schedule still
 * violates the invariant; at most `maxRuns` candidates are tried.
 */
export async function simplify(
  initial: readonly ScheduleStep[],
  kinds: readonly KindSpec[],
  world: ScheduleWorld,
  stillBreaks: (steps: ScheduleStep[]) => Promise<boolean>,
  maxRuns = 60,
): Promise<ScheduleStep[]> {
  let steps = [...initial];
  let budget = maxRuns;
  const attempt = async (drawn: ScheduleStep[]): Promise<boolean> => {
    const candidate = normalizeSteps(drawn);
    if (budget <= 0 || JSON.stringify(candidate) === JSON.stringify(steps)) return false;
    budget--;
    if (!(await stillBreaks(candidate))) return false;
    steps = candidate;
    return true;
  };
  for (let changed = true; changed && budget > 0;) {
    changed = false;
    for (let index = steps.length - 1; index >= 0 && steps.length > 1; index--) {
      if (await attempt(steps.filter((_, other) => other !== index))) changed = true;
    }
    for (let index = 0; index < steps.length; index++) {
      const step = steps[index]!;
      const kind = kinds.find((spec) => spec.kind === step.fault.kind);
      if (kind === undefined) continue;
      const simpler = kinds
        .slice(0, kinds.indexOf(kind) + 1)
        .filter((spec) => spec.family === kind.family);
      for (const spec of simpler) {
        const replacement = makeStep(spec, world, step.at, step.for ?? MIN_FAULT_MS);
        if (JSON.stringify(replacement) === JSON.stringify(step)) break;
        const candidate = steps.map((other, position) =>
          position === index ? replacement : other,
        );
        if (await attempt(candidate)) {
          changed = true;
          break;
        }
      }
    }
  }
  return steps;
}
