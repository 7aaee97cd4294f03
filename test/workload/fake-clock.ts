// A deterministic virtual clock for tests: time moves only when a test advances it, timers run
// in (due time, creation order), and promise chains settle between one timer and the next.

import { setImmediate as nextMacrotask } from "node:timers/promises";
import type { Clock, Timer } from "../../pipeline/core/seam.ts";

interface PendingTimer {
  at: number;
  order: number;
  fn: () => void;
  cancelled: boolean;
}

/** Lets every pending promise callback run (they run before any macrotask). */
export async function settle(): Promise<void> {
  await nextMacrotask();
}

export class FakeClock implements Clock {
  private time: number;
  private created = 0;
  private timers: PendingTimer[] = [];

  constructor(start = 1_700_000_000_000) {
    this.time = start;
  }

  now(): number {
    return this.time;
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.schedule(ms, resolve));
  }

  schedule(ms: number, fn: () => void): Timer {
    const timer: PendingTimer = {
      at: this.time + Math.max(0, ms),
      order: this.created++,
      fn,
      cancelled: false,
    };
    this.timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }

  /** Timers not yet run nor cancelled. */
  pendingTimers(): number {
    return this.timers.filter((timer) => !timer.cancelled).length;
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.time + ms;
    for (;;) {
      await settle();
      const next = this.nextDue(target);
      if (next === undefined) break;
      this.time = next.at;
      next.fn();
    }
    this.time = target;
    await settle();
  }

  /** Advances in steps of `stepMs` until `done()` holds; throws past `limitMs`. */
  async advanceUntil(done: () => boolean, limitMs: number, stepMs = 10): Promise<void> {
    const deadline = this.time + limitMs;
    while (!done()) {
      if (this.time >= deadline) throw new Error(`condition not reached within ${limitMs} ms`);
      await this.advance(stepMs);
    }
  }

  /** Advances until `promise` settles, returning its value. */
  async run<T>(promise: Promise<T>, limitMs: number, stepMs = 10): Promise<T> {
    let finished = false;
    const tracked = promise.finally(() => (finished = true));
    await this.advanceUntil(() => finished, limitMs, stepMs);
    return tracked;
  }

  private nextDue(target: number): PendingTimer | undefined {
    this.timers = this.timers.filter((timer) => !timer.cancelled);
    let next: PendingTimer | undefined;
    for (const timer of this.timers) {
      if (timer.at > target) continue;
      if (
        next === undefined ||
        timer.at < next.at ||
        (timer.at === next.at && timer.order < next.order)
      ) {
        next = timer;
      }
    }
    if (next !== undefined) next.cancelled = true;
    return next;
  }
}
