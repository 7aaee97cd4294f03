// The schedules of a seed, in order (docs/simulator.md, "Workers and shards"): the i-th is the
// i-th value `fc.check(property, { seed })` would test, which `fc.sample` with the same seed
// yields too, without running anything. They are drawn in chunks from `path: String(start)`
// (fast-check replays from there: it skips `start` values by jumping the generator, without
// generating them), so a million runs never hold a million schedules; chunks grow from small
// (a violation found among the first schedules costs little drawing) to CHUNK_MAX.

import fc from "fast-check";
import type { ScheduleStep } from "./schedule.ts";

const CHUNK_MIN = 64;
const CHUNK_MAX = 16_384;

/** Which schedules of a seed one process runs: shard `index` of `count` (1-based). */
export interface Shard {
  index: number;
  count: number;
}

export const WHOLE: Shard = { index: 1, count: 1 };

export interface DrawnSchedule {
  /** Its index among the seed's schedules, whatever shard runs it. */
  index: number;
  steps: ScheduleStep[];
}

/** Global indices j below `runs` with j % count === index - 1, in order. */
export function shardSize(runs: number, shard: Shard): number {
  return Math.max(0, Math.ceil((runs - (shard.index - 1)) / shard.count));
}

export function* drawSchedules(
  arbitrary: fc.Arbitrary<ScheduleStep[]>,
  seed: number,
  runs: number,
  shard: Shard = WHOLE,
): Generator<DrawnSchedule> {
  let chunk = CHUNK_MIN;
  for (let start = 0; start < runs; start += chunk, chunk = Math.min(chunk * 2, CHUNK_MAX)) {
    const values = fc.sample(arbitrary, {
      seed,
      numRuns: Math.min(chunk, runs - start),
      path: String(start),
    });
    for (const [offset, steps] of values.entries()) {
      const index = start + offset;
      if (index % shard.count === shard.index - 1) yield { index, steps };
    }
  }
}
