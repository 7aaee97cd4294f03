// A repeating timer on any Clock (the wall clock or the simulator's), for the harness's
// sampling loops: `fn` runs every `ms` until the returned timer is cancelled.

import type { Clock, Timer } from "../../pipeline/core/seam.ts";

export function every(clock: Clock, ms: number, fn: () => void): Timer {
  let cancelled = false;
  let pending: Timer | null = null;
  const arm = (): void => {
    pending = clock.schedule(ms, () => {
      if (cancelled) return;
      arm();
      fn();
    });
  };
  arm();
  return {
    cancel() {
      cancelled = true;
      pending?.cancel();
    },
  };
}
