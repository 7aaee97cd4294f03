// A small seeded generator (mulberry32) for deterministic tests.

import type { Rng } from "../../pipeline/core/seam.ts";

export function seededRng(seed: number): Rng & { draws: number } {
  let state = seed >>> 0;
  const rng = {
    draws: 0,
    next(): number {
      rng.draws++;
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
    },
  };
  return rng;
}
