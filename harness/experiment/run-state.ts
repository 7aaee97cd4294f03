// The state of one experiment run, shared by its phases (harness/experiment/phases/): what was
// started, which faults are in force, when the first fault began and the last one healed, the
// journal's steps and notes. Each phase is a named function over this one object, so that it
// can be read and tested alone (docs/architecture.md §6).

import { resolveLimits, type Limits } from "../../pipeline/core/limits.ts";
import type { Clock } from "../../pipeline/core/seam.ts";
import type { ActiveFault, FaultContext, LinkControl } from "../faults/fault.ts";
import type { JobRecord } from "../ledger/job-record.ts";
import type { LinkProvider } from "../runtime/links.ts";
import type { Runtime, RunningTopology } from "../runtime/runtime.ts";
import type { Workload } from "../workload/workload.ts";
import type { AbortRecord } from "./abort.ts";
import type { Experiment } from "./definition.ts";
import type { JournalStep, RunStatus, Verdict } from "./journal.ts";
import type { Observer } from "./observer.ts";
import type { RunSeries } from "./series.ts";
import type { RunOptions } from "./runner.ts";

/** Thrown by a phase's wait when the run is interrupted (caller's signal, SIGINT, SIGTERM). */
export class Interrupted extends Error {
  constructor() {
    super("interrupted");
    this.name = "Interrupted";
  }
}

/** Thrown by a phase's wait when an abort condition tripped (abort.ts) while the method runs. */
export class AbortTripped extends Error {
  constructor() {
    super("an abort condition tripped");
    this.name = "AbortTripped";
  }
}

export interface ActiveEntry {
  name: string;
  fault: ActiveFault;
}

/**
 * The longest single sleep of a phase's wait: a halt is noticed within this. The slices are
 * plain sleeps, not raced against the halt: one more promise hop per slice would reorder a
 * simulated run's events, and every seed's schedule with them.
 */
const SLEEP_SLICE_MS = 100;

export class RunState {
  readonly experiment: Experiment;
  readonly options: RunOptions;
  readonly runtime: Runtime;
  readonly clock: Clock;
  readonly started: number;
  readonly limits: Limits;
  /** The fault proxies on every link, or null when services call each other directly. */
  readonly proxies: (LinkProvider & LinkControl) | null;
  readonly linkProvider: LinkProvider;
  readonly steps: JournalStep[] = [];
  readonly notes: Array<{ atMs: number; message: string }> = [];
  private readonly interruption = new AbortController();
  /** Aborted when a condition trips while the method runs; null outside the method (abort.ts). */
  private abortWindow: AbortController | null = null;
  private haltedSignal: AbortSignal = this.interruption.signal;

  phase = "start";
  status: RunStatus = "completed";
  deviated = false;
  error: string | undefined = undefined;
  verdict: Verdict | null = null;
  /** The abort condition that tripped, with its reading (abort.ts); null while none has. */
  abort: AbortRecord | null = null;
  /** The run's time series, built with the verdict (series-build.ts). */
  series: RunSeries | null = null;

  topology: RunningTopology | null = null;
  workload: Workload | null = null;
  observer: Observer | null = null;
  /** The harness's record of the job changes it asked for (the ledger's ground truth). */
  jobs: JobRecord | null = null;
  /** Faults in force, oldest first. */
  readonly active: ActiveEntry[] = [];
  firstFaultAt: number | null = null;
  lastHealAt: number | null = null;
  drained = false;

  constructor(
    experiment: Experiment,
    options: RunOptions,
    runtime: Runtime,
    proxies: (LinkProvider & LinkControl) | null,
    linkProvider: LinkProvider,
  ) {
    this.experiment = experiment;
    this.options = options;
    this.runtime = runtime;
    this.clock = runtime.clock;
    this.started = this.clock.now();
    this.limits = resolveLimits(experiment.topology.limits ?? {});
    this.proxies = proxies;
    this.linkProvider = linkProvider;
    options.signal?.addEventListener("abort", () => this.interrupt(), { once: true });
  }

  since(): number {
    return this.clock.now() - this.started;
  }

  note(message: string): void {
    this.notes.push({ atMs: this.since(), message });
  }

  interrupted(): boolean {
    return this.interruption.signal.aborted;
  }

  /**
   * Aborted once the run's waits must end, its reason the error they end with: Interrupted when
   * the run is interrupted, AbortTripped when an abort condition trips while the method runs.
   * The facilitator's go races it; a sleep checks it after each slice.
   */
  get halted(): AbortSignal {
    return this.haltedSignal;
  }

  /** Interrupts the run (Ctrl-C, SIGTERM, the caller's signal): its waits end with Interrupted. */
  interrupt(): void {
    this.interruption.abort(new Interrupted());
  }

  /**
   * Until the returned function is called, a tripped abort condition halts the run (`halted`):
   * the method's waits end with AbortTripped (abort.ts). Outside, a trip only marks the run.
   */
  haltOnAbort(): () => void {
    const window = new AbortController();
    this.abortWindow = window;
    this.haltedSignal = AbortSignal.any([this.interruption.signal, window.signal]);
    if (this.abort !== null) window.abort(new AbortTripped());
    return () => {
      if (this.abortWindow !== window) return;
      this.abortWindow = null;
      this.haltedSignal = this.interruption.signal;
    };
  }

  /**
   * An abort condition tripped (abort.ts): the run is aborted (an interruption still says
   * interrupted) and, while the method runs, it is halted.
   */
  tripAbort(record: AbortRecord): void {
    this.abort = record;
    if (this.status === "completed") this.status = "aborted";
    this.note(`abort condition tripped: ${record.text}`);
    this.abortWindow?.abort(new AbortTripped());
  }

  /**
   * Waits `ms` on the run's clock; throws Interrupted once the run is interrupted, and
   * AbortTripped once an abort condition trips while the method runs, within a slice.
   */
  async sleep(ms: number): Promise<void> {
    const until = this.clock.now() + ms;
    // Checked after the last slice too: a trip during it must not let the next fault in.
    for (this.haltIfStopped(); this.clock.now() < until; this.haltIfStopped())
      await this.clock.sleep(Math.min(SLEEP_SLICE_MS, until - this.clock.now()));
  }

  /**
   * `waiting`, unless the run is halted first: then rejects at once as haltIfStopped throws
   * (the wait itself is left to settle unheard).
   */
  async unlessHalted<T>(waiting: Promise<T>): Promise<T> {
    this.haltIfStopped();
    const signal = this.halted;
    let onHalt = (): void => undefined;
    const halted = new Promise<never>((_, reject) => {
      onHalt = () => reject(this.haltError());
      signal.addEventListener("abort", onHalt, { once: true });
    });
    try {
      return await Promise.race([waiting, halted]);
    } finally {
      signal.removeEventListener("abort", onHalt);
    }
  }

  /**
   * Throws Interrupted when the run is interrupted, and AbortTripped when an abort condition
   * has tripped while the method runs: called before each wait and before each fault.
   */
  haltIfStopped(): void {
    if (this.halted.aborted) throw this.haltError();
  }

  /** Why the run is halted: an interruption wins over a tripped abort condition. */
  private haltError(): Interrupted | AbortTripped {
    return this.interrupted() ? new Interrupted() : new AbortTripped();
  }

  /** Runs one journal step: its phase, name, times, and whether it failed (and why). */
  async step<T>(phase: string, name: string, body: () => Promise<T>): Promise<T> {
    this.phase = phase;
    const startedMs = this.since();
    try {
      const result = await body();
      this.steps.push({ phase, name, startedMs, endedMs: this.since(), ok: true });
      return result;
    } catch (failure) {
      this.steps.push({
        phase,
        name,
        startedMs,
        endedMs: this.since(),
        ok: false,
        detail: (failure as Error).message,
      });
      throw failure;
    }
  }

  /** What a fault acts on; only once the topology, the workload and the job record exist. */
  faultContext(): FaultContext {
    const { topology, workload, jobs } = this;
    if (topology === null || workload === null || jobs === null)
      throw new Error("faults need the topology, the workload and the job record started");
    return { topology, workload, jobs, links: this.proxies, note: (message) => this.note(message) };
  }

  /** The workload; the phases after the start may rely on it. */
  producing(): Workload {
    if (this.workload === null) throw new Error("the run's workload has not started");
    return this.workload;
  }

  /** The observer; the phases after the start may rely on it. */
  watching(): Observer {
    if (this.observer === null) throw new Error("the run's observer has not started");
    return this.observer;
  }

  running(): {
    topology: RunningTopology;
    workload: Workload;
    observer: Observer;
    jobs: JobRecord;
  } {
    if (
      this.topology === null ||
      this.workload === null ||
      this.observer === null ||
      this.jobs === null
    ) {
      throw new Error("the topology, workload and observer have not all started");
    }
    return {
      topology: this.topology,
      workload: this.workload,
      observer: this.observer,
      jobs: this.jobs,
    };
  }
}
