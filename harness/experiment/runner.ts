// Runs one experiment on one profile, as named phases over one RunState (run-state.ts), in the
// order Chaos Toolkit runs an experiment (docs/architecture.md §6):
//
//   startTopology → startWorkload → warm up → steadyStateHolds("before") → runMethod
//   → healAll → runRollbacks → steadyStateHolds("after") → stop the workload → drain
//   → watchRecoveryTail → settleVerdict (which judges recovery from the readings)
//
// Healing, rollbacks, the drain and the verdict run also after a failure or an interruption
// (Ctrl-C): nothing is left broken, and the journal says how the run ended. The experiment's
// abort conditions are watched over the method and the rest of the faults' time (abort.ts).

import packageJson from "../../package.json" with { type: "json" };
import type { Flaw } from "../../pipeline/core/flaws.ts";
import type { InvariantName } from "../invariants/types.ts";
import { registerCleanup, signalReceived } from "../runtime/cleanup.ts";
import { every } from "../runtime/every.ts";
import { directLinks } from "../runtime/links.ts";
import { processRuntime } from "../runtime/process/process-runtime.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { toxiproxyLinks } from "../runtime/toxiproxy-links.ts";
import { watchAbortConditions, type AbortSources } from "./abort.ts";
import { referenceAbortSources } from "./abort-sources.ts";
import type { Experiment } from "./definition.ts";
import type { Journal, Outcome } from "./journal.ts";
import { drain } from "./phases/drain.ts";
import { healAll, runRollbacks } from "./phases/heal.ts";
import { steadyStateHolds } from "./phases/hypothesis.ts";
import { runMethod, type BeforeFault } from "./phases/method.ts";
import { watchRecoveryTail } from "./phases/recovery.ts";
import { startTopology, startWorkload } from "./phases/start.ts";
import { settleVerdict } from "./phases/verdict.ts";
import { Interrupted, RunState } from "./run-state.ts";

/** The package's version (package.json), in every journal and `spillway --version`. */
export const SPILLWAY_VERSION: string = packageJson.version;

export interface Progress {
  phase: string;
  elapsedMs: number;
  eventsPerSecond: number;
  /** Buffer bytes held ÷ the profile's bound (may exceed 1 on legacy). */
  bufferFill: number;
}

export interface RunOptions {
  profile: string;
  /** Replaces the profile's flaws (then the experiment's expectations do not apply). */
  flaws?: Flaw[];
  seed: number;
  /** A real Toxiproxy to use instead of the embedded server. */
  toxiproxyUrl?: string;
  onProgress?: (progress: Progress) => void;
  /** Aborting it interrupts the run: faults heal, rollbacks run, the journal says interrupted. */
  signal?: AbortSignal;
  /** Where the pipeline runs: processes by default, or the simulator. */
  runtime?: Runtime;
  /** Awaited before each fault (`spillway run --step`); its waits pause the method's schedule. */
  beforeFault?: BeforeFault;
}

/** Whether the run puts a fault proxy on every link (a dry run's plan says so too). */
export function needsProxies(experiment: Experiment): boolean {
  if (experiment.topology.proxies) return true;
  return [...experiment.method.map((step) => step.fault), ...experiment.rollbacks].some(
    (fault) => fault.kind.startsWith("network.") || fault.kind === "sink.down",
  );
}

/** The outcomes the run expects: the experiment's for the profile, none when flaws replace it. */
export function expectationsFor(
  experiment: Experiment,
  options: Pick<RunOptions, "profile" | "flaws">,
): Partial<Record<InvariantName, "held" | "violated">> {
  if (options.flaws !== undefined) return {};
  return experiment.expect?.[options.profile as keyof NonNullable<Experiment["expect"]>] ?? {};
}

function newRunState(experiment: Experiment, options: RunOptions): RunState {
  const runtime = options.runtime ?? processRuntime();
  // Fault proxies on every link when a fault needs one; otherwise services call each other directly.
  const proxies = !needsProxies(experiment)
    ? null
    : (runtime.faultLinks?.() ??
      toxiproxyLinks(options.toxiproxyUrl === undefined ? {} : { url: options.toxiproxyUrl }));
  return new RunState(experiment, options, runtime, proxies, proxies ?? directLinks());
}

/** Start, warm up, the hypothesis before, the method, then the rest of the workload's time. */
async function runUntilFaultsEnd(state: RunState, onStarted: () => void): Promise<void> {
  await startTopology(state);
  onStarted();
  const workloadStart = startWorkload(state);
  await warmUpThenFaults(state, workloadStart, referenceAbortSources(state));
}

/**
 * Once the workload runs (since `workloadStart`): warm up, the hypothesis before, then the
 * method under the abort conditions and the rest of the workload's time (also a target's run,
 * harness/target/run.ts, which reads health from its own observer).
 */
export async function warmUpThenFaults(
  state: RunState,
  workloadStart: number,
  sources: AbortSources,
  health?: () => Promise<{ unhealthy: string[] }>,
): Promise<void> {
  const { experiment } = state;
  await state.step("warmup", `warm up ${experiment.warmup} ms`, () =>
    state.sleep(experiment.warmup),
  );
  if (!(await steadyStateHolds(state, "before", health))) {
    state.status = "aborted";
    return;
  }
  await watchAbortConditions(state, sources, async () => {
    const pausedMs = await runMethod(state, state.clock.now());
    await state.sleep(workloadStart + experiment.duration + pausedMs - state.clock.now());
  });
}

/** Heal, roll back, stop the workload, drain, check the hypothesis again, settle the verdict. */
async function finish(state: RunState): Promise<void> {
  if (state.topology === null) return;
  await healAll(state);
  await runRollbacks(state);
  const { workload, observer } = state;
  if (workload === null || observer === null) return;
  // Checked while the workload still offers load, so that acceptance can be measured.
  if (state.status === "completed")
    state.deviated = !(await steadyStateHolds(state, "after").catch(() => false));
  await state.step("drain", "stop workload", () => workload.stop()).catch(() => undefined);
  state.drained = await state.step("drain", "drain", () => drain(state)).catch(() => false);
  if (state.status === "completed")
    await state
      .step("recovery", "watch recovery", () => watchRecoveryTail(state))
      .catch(() => undefined);
  await observer.stop();
  if (state.status !== "completed" && state.status !== "aborted") return;
  state.verdict = await state
    .step("verdict", "settle the ledger and check the invariants", () => settleVerdict(state))
    .catch((failure) => {
      state.status = "failed";
      state.error = (failure as Error).stack ?? String(failure);
      return null;
    });
}

/** The journal of a finished run (also of a run on a target, harness/target/run.ts). */
export function journalOf(state: RunState): Journal {
  const { experiment, options, verdict, status } = state;
  const expected = expectationsFor(experiment, options);
  const outcomes: Outcome[] =
    verdict === null
      ? []
      : experiment.invariants.map((invariant) => {
          const actual = verdict.invariants[invariant]?.status ?? "unknown";
          const wanted = expected[invariant] ?? "held";
          return { invariant, expected: wanted, actual, matched: actual === wanted };
        });
  return {
    spillway: { version: SPILLWAY_VERSION },
    experiment: experiment.name,
    description: experiment.description,
    profile: options.profile,
    flaws: options.flaws ?? experiment.flaws ?? [],
    runtime: state.runtime.kind,
    seed: options.seed,
    status,
    ...(state.abort === null ? {} : { abort: state.abort }),
    deviated: state.deviated,
    asExpected:
      status === "completed" && outcomes.length > 0 && outcomes.every((outcome) => outcome.matched),
    ...(state.error === undefined ? {} : { error: state.error }),
    startedAt: new Date(state.started).toISOString(),
    endedAt: new Date(state.clock.now()).toISOString(),
    durationMs: state.since(),
    steps: state.steps,
    notes: state.notes,
    verdict,
    outcomes,
    ...(state.series === null ? {} : { series: state.series }),
  };
}

/** What differs between a run on a runtime and a run on a target: the phases and the releases. */
export interface RunDriver {
  /** The cleanup's label, for error messages: `experiment nov14-2024`. */
  label: string;
  /** Start, warm up, the hypothesis before, the method; calls `onStarted` once services run. */
  untilFaultsEnd(onStarted: () => void): Promise<void>;
  /** Heal, roll back, the hypothesis after, drain, the verdict. */
  finish(): Promise<void>;
  /** Releases what the run holds beside its topology and links (an ingress, an observer). */
  release?(): Promise<void>;
  /** The buffer's fill for the progress line (0 when there is none to read). */
  bufferFill(): number;
}

/**
 * Drives one run's phases over `state` (docs/architecture.md §6): the faults' phases, then,
 * also after a failure or an interruption (Ctrl-C), healing, rollbacks, the drain and the
 * verdict, then the release of everything started. Returns the journal.
 */
export async function drivePhases(
  state: RunState,
  driver: RunDriver,
  onProgress: RunOptions["onProgress"],
): Promise<Journal> {
  let finishing: Promise<void> | null = null;
  let unregister: (() => void) | null = null;
  // Registered once the topology runs, so that on SIGINT/SIGTERM it runs before the runtime's
  // own cleanup (the registry runs the newest first): heal, roll back, journal, then stop. A
  // simulated run holds nothing outside this process, and a simulation that aborts would never
  // unregister it.
  const registerInterruption = (): void => {
    if (state.runtime.kind === "sim") return;
    unregister = registerCleanup({
      label: driver.label,
      run: async () => {
        if (state.status === "completed") state.status = "interrupted";
        state.interrupt();
        while (finishing === null) await state.clock.sleep(50);
        await finishing;
      },
    });
  };
  const progress = every(state.clock, 1_000, () => {
    if (state.workload === null || onProgress === undefined) return;
    onProgress({
      phase: state.phase,
      elapsedMs: state.since(),
      eventsPerSecond: state.workload.stats().eventsPerSecond,
      bufferFill: driver.bufferFill(),
    });
  });

  try {
    await driver.untilFaultsEnd(registerInterruption);
  } catch (failure) {
    if (failure instanceof Interrupted || state.interrupted() || signalReceived() !== null)
      state.status = "interrupted";
    else {
      state.status = "failed";
      state.error = (failure as Error).stack ?? String(failure);
    }
  }

  finishing = (async () => {
    try {
      await driver.finish();
    } finally {
      progress.cancel();
      await driver.release?.().catch(() => undefined);
      await state.topology?.stop().catch(() => undefined);
      await state.linkProvider.close().catch(() => undefined);
    }
  })();
  await finishing;
  (unregister as (() => void) | null)?.();
  return journalOf(state);
}

export async function runExperiment(experiment: Experiment, options: RunOptions): Promise<Journal> {
  const state = newRunState(experiment, options);
  return drivePhases(
    state,
    {
      label: `experiment ${experiment.name}`,
      untilFaultsEnd: (onStarted) => runUntilFaultsEnd(state, onStarted),
      finish: () => finish(state),
      bufferFill: () => (state.observer?.latestBuffer()?.bytes ?? 0) / state.limits.maxBufferBytes,
    },
    options.onProgress,
  );
}
