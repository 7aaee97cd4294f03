// Busy polling, off unless asked for (`-busy-poll-us`; docs/toxiproxy.md, "Busy polling"): after
// each read the event loop keeps polling its sockets, without sleeping, for a window of time.
// On a machine whose idle CPUs halt, a sleeping proxy costs a wake-up of its CPU per message each
// way; a polling one finds the next message without one. The price is CPU: up to the window after
// every read. Polling only pays while a CPU is idle for it: once the process is preempted while
// it polls (another task wanted its CPU), that stretch of polling ends and the loop sleeps as
// usual until the next read.
import assert from "node:assert/strict";

/** Longest window: past a few round trips polling only burns CPU. */
export const BUSY_POLL_US_MAX = 10_000;

/** What a window must be, for the errors that refuse one. */
export const BUSY_POLL_WINDOW_EXPECTED = `an integer from 0 to ${BUSY_POLL_US_MAX}`;

/** Whether `windowUs` is a window BusyPoll takes (the CLI and startToxiproxy check it first). */
export function isBusyPollWindow(windowUs: number): boolean {
  return Number.isInteger(windowUs) && windowUs >= 0 && windowUs <= BUSY_POLL_US_MAX;
}

/** What the poller reads: the time and this process's preemptions so far. */
export interface BusyPollSources {
  nowMs(): number;
  /** The kernel's count of involuntary context switches: another task took the CPU. */
  preemptions(): number;
}

const PROCESS_SOURCES: BusyPollSources = {
  nowMs: () => performance.now(),
  preemptions: () => process.resourceUsage().involuntaryContextSwitches,
};

export class BusyPoll {
  readonly windowUs: number;
  /** The time (sources.nowMs) until which the loop keeps polling. */
  private untilMs = 0;
  private polling = false;
  /** Preemptions counted when this stretch of polling began. */
  private preemptionsAtStart = 0;
  private readonly sources: BusyPollSources;

  /** `sources`: the process's own; a test may give its own time and preemptions. */
  constructor(windowUs: number, sources: BusyPollSources = PROCESS_SOURCES) {
    assert(
      isBusyPollWindow(windowUs),
      `busy-poll window ${windowUs} µs: expected ${BUSY_POLL_WINDOW_EXPECTED}`,
    );
    this.windowUs = windowUs;
    this.sources = sources;
  }

  /** A read happened: keep polling for the window from now. */
  afterRead(): void {
    if (this.windowUs === 0) return;
    this.untilMs = this.sources.nowMs() + this.windowUs / 1000;
    if (this.polling) return;
    this.polling = true;
    this.preemptionsAtStart = this.sources.preemptions();
    setImmediate(this.poll);
  }

  /** While an immediate is pending, libuv polls its sockets with a timeout of 0: no sleep. */
  private readonly poll = (): void => {
    const preempted = this.sources.preemptions() > this.preemptionsAtStart;
    if (!preempted && this.sources.nowMs() < this.untilMs) setImmediate(this.poll);
    else this.polling = false;
  };
}
