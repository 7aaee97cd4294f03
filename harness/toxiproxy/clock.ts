// The real clock and random source behind the toxics. Toxics reach time and randomness only
// through these seam interfaces (pipeline/core/seam.ts), so a seed reproduces every roll.
import type { Clock, Rng, Timer } from "../../pipeline/core/seam.ts";

/** Node timers overflow past this many ms (about 24.8 days) and would fire at once. */
const LONGEST_TIMER_MS = 2_147_483_647;

export const realClock: Clock = {
  now: () => performance.timeOrigin + performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  schedule: scheduleLongTimer,
};

/** Like setTimeout, but waits that long even past the 24.8-day timer limit. */
function scheduleLongTimer(ms: number, fn: () => void): Timer {
  let handle: NodeJS.Timeout;
  const arm = (remainingMs: number): void => {
    const stepMs = Math.min(Math.max(remainingMs, 0), LONGEST_TIMER_MS);
    handle = setTimeout(() => {
      if (remainingMs > LONGEST_TIMER_MS) arm(remainingMs - LONGEST_TIMER_MS);
      else fn();
    }, stepMs);
  };
  arm(ms);
  return { cancel: () => clearTimeout(handle) };
}

/**
 * A random source: seeded (mulberry32, deterministic for a given seed) when a seed is given,
 * otherwise Math.random.
 */
export function createRng(seed?: number): Rng {
  if (seed === undefined) return { next: () => Math.random() };
  let state = seed >>> 0;
  return {
    next() {
      state = (state + 0x6d2b79f5) >>> 0;
      let mixed = state;
      mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
      mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
      return ((mixed ^ (mixed >>> 14)) >>> 0) / 4_294_967_296;
    },
  };
}
