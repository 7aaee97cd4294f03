// Backoff waits that end at once when their owner gives up (the workload abandoning its
// batches, an ingress closing): each answers true after its time, or false as soon as
// close() is called, and none outlives close().

import type { Clock, Timer } from "../../pipeline/core/seam.ts";

interface PendingWait {
  timer: Timer;
  resolve(proceed: boolean): void;
}

/** Backoff waits that close() ends at once, answering false: the batch gives up waiting. */
export class Waits {
  private readonly clock: Clock;
  private readonly pending = new Set<PendingWait>();
  private closed = false;

  constructor(clock: Clock) {
    this.clock = clock;
  }

  /** Resolves true after `ms`, or false as soon as (or if already) closed. */
  wait(ms: number): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    return new Promise((resolve) => {
      const pending: PendingWait = {
        timer: this.clock.schedule(ms, () => {
          this.pending.delete(pending);
          resolve(true);
        }),
        resolve,
      };
      this.pending.add(pending);
    });
  }

  close(): void {
    this.closed = true;
    for (const pending of this.pending) {
      pending.timer.cancel();
      pending.resolve(false);
    }
    this.pending.clear();
  }
}
