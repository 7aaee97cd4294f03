// Property-based exploration of fault schedules on the simulator (docs/architecture.md §7): fast-check
// draws schedules, each runs on a fresh simulation and every invariant is checked; the first
// violation is shrunk by fast-check (fewer, earlier, shorter, simpler faults), then simplified
// further — each step dropped, or replaced by a simpler kind of its family, while the same
// invariant still breaks — and returned with
// its evidence as a schedule file that replays on the simulator and on processes. A drawn run
// that breaks nothing but leaves an invariant unknown is neither a violation found nor a pass:
// such runs are counted apart, and the first is kept to replay.

import fc from "fast-check";
import { availableParallelism } from "node:os";
import type { Flaw, ProfileName } from "../../pipeline/core/flaws.ts";
import type { Experiment } from "../experiment/definition.ts";
import { referenceTopology } from "../experiment/reference-topology.ts";
import type { FaultFamily } from "../faults/fault.ts";
import type { InvariantName, InvariantResult } from "../invariants/types.ts";
import { parseTopology } from "../runtime/topology.ts";
import { selectJobTenants, tenantNames } from "../workload/tenants.ts";
import { drawSchedules, shardSize, WHOLE, type DrawnSchedule, type Shard } from "./draw.ts";
import {
  kindsOf,
  makeStep,
  normalizeSteps,
  scheduleArbitrary,
  type KindSpec,
  type ScheduleWorld,
  STEPS_MAX_DEFAULT,
} from "./generators.ts";
import { inProcessRunner, workerPool, WORKERS_MAX, type ScheduleRunner } from "./pool.ts";
import { exploreScenario, MIN_FAULT_MS } from "./scenario.ts";
import type { Schedule, ScheduleStep } from "./schedule.ts";
import {
  isBad,
  runSchedule,
  scheduleOf,
  type DrawnOutcome,
  type Outcome,
  type RunSetting,
} from "./schedule-run.ts";
import { servicesRunning } from "../runtime/runtime.ts";

const DEFAULT_MAX_SHRINK_RUNS = 150;

/** `--workers` when not given: one per core, at most WORKERS_MAX. */
export function defaultWorkers(): number {
  return Math.min(availableParallelism(), WORKERS_MAX);
}

export interface ExploreOptions {
  profile: ProfileName;
  /** Replaces the profile's flaws (e.g. one flaw alone). */
  flaws?: Flaw[];
  /** Schedules of the seed to try (all shards together) before concluding nothing breaks. */
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
  /**
   * Worker threads running the drawn schedules (default defaultWorkers()); 1 runs them on this
   * thread. The result is the same whatever their number.
   */
  workers?: number;
  /** Run only this shard of the seed's schedules (default all: shard 1 of 1). */
  shard?: Shard;
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
  /** Its index among the seed's schedules. */
  index: number;
  steps: ScheduleStep[];
  invariants: Array<{ name: InvariantName; summary: string }>;
}

export interface ExploreResult {
  found: boolean;
  /** Schedules drawn and run before the first violation (or all of them), in this shard. */
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
  /** The invariant looked for (`--invariant`), or null for any. */
  invariantSought: InvariantName | null;
  /** The schedules of the seed asked for (`--runs`, all shards together). */
  runsMax: number;
  /** Most faults in one schedule (`--max-faults`). */
  stepsMax: number;
  /** Which of the seed's schedules ran (1 of 1: all of them). */
  shard: Shard;
  /** The index among the seed's schedules of the first one found bad, which was shrunk. */
  violationIndex: number | null;
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
    sinks: servicesRunning(topology.services, "sink").map((service) => service.name),
    links: topology.links.map((link) => link.name),
    tenants: [...jobTenants, ...otherTenants],
    jobTenants,
    otherTenants: otherTenants.length > 0 ? otherTenants : jobTenants,
    datasets: scenario.workload.datasets,
    newDataset: "dns_logs",
  };
}

/** What the drawing phase saw: the runs before the first bad one, tallied, and that one. */
interface Drawn {
  runs: number;
  heldRuns: number;
  unknownRuns: number;
  unknownByInvariant: Partial<Record<InvariantName, number>>;
  firstUnknown: UnknownRun | null;
  bad: DrawnSchedule | null;
  interrupted: boolean;
}

/**
 * Runs the shard's schedules in index order, `runner.width` at a time, until the first bad one
 * (docs/simulator.md, "Workers and shards"). Several run at once, so a later schedule may be
 * found bad before an earlier one finishes: results are taken in index order, and the first bad
 * one so taken is the lowest bad index, whatever the width; runs after it are not counted, as
 * when the schedules run one after another.
 */
async function drawPhase(
  runner: ScheduleRunner,
  schedules: Iterator<DrawnSchedule>,
  options: ExploreOptions,
  deadline: number,
  onRun: (drawn: DrawnSchedule, outcome: DrawnOutcome) => void,
): Promise<Drawn> {
  const drawn: Drawn = {
    runs: 0,
    heldRuns: 0,
    unknownRuns: 0,
    unknownByInvariant: {},
    firstUnknown: null,
    bad: null,
    interrupted: false,
  };
  /** Finished runs by their position in the shard, until they are taken in order. */
  const finished = new Map<number, { schedule: DrawnSchedule; outcome: DrawnOutcome }>();
  let dispatched = 0;
  let inFlight = 0;
  let exhausted = false;
  let lowestBad = Infinity;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;

  const tally = (schedule: DrawnSchedule, outcome: DrawnOutcome): void => {
    drawn.runs++;
    const unknown = outcome.unknown.filter(
      ({ name }) => options.invariant === undefined || name === options.invariant,
    );
    if (unknown.length === 0) {
      drawn.heldRuns++;
      return;
    }
    drawn.unknownRuns++;
    for (const { name } of unknown)
      drawn.unknownByInvariant[name] = (drawn.unknownByInvariant[name] ?? 0) + 1;
    drawn.firstUnknown ??= { index: schedule.index, steps: schedule.steps, invariants: unknown };
  };

  for (;;) {
    while (inFlight < runner.width && dispatched < lowestBad && !exhausted) {
      if (Date.now() >= deadline) {
        drawn.interrupted = true;
        break;
      }
      const next = schedules.next();
      if (next.done === true) {
        exhausted = true;
        break;
      }
      const position = dispatched++;
      const schedule = next.value;
      inFlight++;
      runner.run(schedule.steps).then(
        (outcome) => {
          inFlight--;
          onRun(schedule, outcome);
          finished.set(position, { schedule, outcome });
          if (isBad(outcome, options.invariant)) lowestBad = Math.min(lowestBad, position);
          wake?.();
        },
        (error: unknown) => {
          inFlight--;
          failure ??= error instanceof Error ? error : new Error(String(error));
          wake?.();
        },
      );
    }
    if (failure !== null) throw failure;
    for (let taken = finished.get(drawn.runs); taken !== undefined;) {
      finished.delete(drawn.runs);
      if (isBad(taken.outcome, options.invariant)) {
        drawn.runs++;
        drawn.bad = taken.schedule;
        drawn.interrupted = false;
        return drawn;
      }
      tally(taken.schedule, taken.outcome);
      taken = finished.get(drawn.runs);
    }
    if (inFlight === 0) return drawn;
    await new Promise<void>((resolve) => (wake = resolve));
  }
}

/** Threads a search runs on: fewer schedules than workers need fewer; one runs on this thread. */
export function threadCount(workers: number, runs: number, shard: Shard): number {
  return Math.min(workers, Math.max(1, shardSize(runs, shard)));
}

export async function explore(options: ExploreOptions): Promise<ExploreResult> {
  const started = Date.now();
  const deadline = started + (options.timeLimitMs ?? Infinity);
  const scenario = exploreScenario();
  const world = scenarioWorld(scenario);
  const kinds = kindsOf(options.families);
  const stepsMax = options.maxSteps ?? STEPS_MAX_DEFAULT;
  const arbitrary = scheduleArbitrary(kinds, world, stepsMax);
  const shard = options.shard ?? WHOLE;
  const workers = options.workers ?? defaultWorkers();
  let runIndex = 0;
  const report = (steps: readonly ScheduleStep[], outcome: Omit<Outcome, "journal" | "unknown">) =>
    options.onRun?.({
      index: runIndex++,
      steps,
      violated: outcome.violated,
      failed: outcome.failed,
    });

  const width = threadCount(workers, options.runs, shard);
  // Only data crosses to the threads (options carries an onRun function).
  const setting: RunSetting = {
    profile: options.profile,
    ...(options.flaws === undefined ? {} : { flaws: options.flaws }),
    seed: options.seed,
  };
  const runner = width === 1 ? inProcessRunner(setting) : workerPool(width, setting);
  let drawn: Drawn;
  try {
    drawn = await drawPhase(
      runner,
      drawSchedules(arbitrary, options.seed, options.runs, shard),
      options,
      deadline,
      (schedule, outcome) => report(schedule.steps, outcome),
    );
  } finally {
    await runner.close();
  }
  const base = {
    runs: drawn.runs,
    heldRuns: drawn.heldRuns,
    unknownRuns: drawn.unknownRuns,
    unknownByInvariant: drawn.unknownByInvariant,
    firstUnknown: drawn.firstUnknown,
    seed: options.seed,
    profile: options.profile,
    flaws: options.flaws ?? null,
    families: options.families ?? null,
    invariantSought: options.invariant ?? null,
    runsMax: options.runs,
    stepsMax,
    shard,
    interrupted: drawn.interrupted,
  };
  if (drawn.bad === null) {
    return {
      ...base,
      found: false,
      shrinkRuns: 0,
      violationIndex: null,
      invariant: null,
      summary: null,
      evidence: null,
      error: null,
      schedule: null,
      elapsedMs: Date.now() - started,
    };
  }

  const bad = drawn.bad;
  let shrinkRuns = 0;
  async function run(steps: readonly ScheduleStep[]): Promise<Outcome> {
    const outcome = await runSchedule(scenario, steps, setting);
    shrinkRuns++;
    report(steps, outcome);
    return outcome;
  }

  // fast-check replays the bad schedule from its index (`path`) and shrinks it as it would
  // have after finding it there itself. Past the budget or the time limit every further
  // candidate "passes", so fast-check keeps the last failure.
  let replayed = false;
  const shrinkBudget = options.maxShrinkRuns ?? DEFAULT_MAX_SHRINK_RUNS;
  const property = fc.asyncProperty(arbitrary, async (steps) => {
    if (!replayed) {
      replayed = true;
      if (JSON.stringify(steps) !== JSON.stringify(bad.steps))
        throw new Error(`fast-check replayed another schedule than index ${bad.index}`);
      return false;
    }
    if (shrinkRuns >= shrinkBudget || Date.now() >= deadline) return true;
    return !isBad(await run(steps), options.invariant);
  });
  const details = await fc.check(property, {
    seed: options.seed,
    path: String(bad.index),
    numRuns: 1,
  });
  const counterexample = details.counterexample?.[0];
  if (!details.failed || counterexample === undefined)
    throw new Error(`shrinking schedule ${bad.index} of seed ${options.seed} found no failure`);

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
    shrinkRuns,
    violationIndex: bad.index,
    invariant: target ?? null,
    summary: result?.summary ?? null,
    evidence: result?.evidence ?? null,
    error: outcome.failed,
    schedule: {
      ...scheduleOf(simplified, setting),
      ...(target === undefined ? {} : { invariant: target }),
      found: {
        runtime: "sim",
        by: "spillway explore",
        // The seed's schedules up to the bad one: the same whichever shard found it.
        runs: bad.index + 1,
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
