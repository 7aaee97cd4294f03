// `npm run explore:hardened` (scripts/explore-hardened.ts) runs outside the test command; these
// check what it accepts and how it reports, in-process: a seed's finding with its shrunk
// schedule, and exit 1 as soon as any seed found something.

import { expect, it } from "vitest";
import { defaultWorkers, type ExploreResult } from "../../harness/explore/explore.ts";
import {
  describeSeed,
  parseOptions,
  summarize,
  type SeedOutcome,
} from "../../scripts/explore-hardened.ts";

function result(
  fields: Partial<ExploreResult & { file: string | null }>,
): ExploreResult & { file: string | null } {
  return {
    found: false,
    runs: 1000,
    heldRuns: 1000,
    unknownRuns: 0,
    unknownByInvariant: {},
    firstUnknown: null,
    shrinkRuns: 0,
    seed: 1,
    profile: "hardened",
    flaws: null,
    families: null,
    invariantSought: null,
    runsMax: 1000,
    stepsMax: 6,
    shard: { index: 1, count: 1 },
    violationIndex: null,
    invariant: null,
    summary: null,
    evidence: null,
    error: null,
    schedule: null,
    interrupted: false,
    elapsedMs: 200_000,
    file: null,
    ...fields,
  };
}

const NOTHING: SeedOutcome = { seed: 1, result: result({}) };
const FOUND: SeedOutcome = {
  seed: 5,
  result: result({
    found: true,
    runs: 40,
    shrinkRuns: 12,
    seed: 5,
    invariant: "recovery",
    summary: "the backlog did not drain",
    schedule: {
      spillway: "schedule",
      version: 1,
      base: "explore",
      profile: "hardened",
      seed: 5,
      steps: [
        { at: 500, for: 2_000, fault: { kind: "process.pause", service: "pusher" } },
        { at: 900, fault: { kind: "config.push-empty" } },
      ],
    },
    elapsedMs: 9_050,
    file: "out/spillway-schedule-hardened-seed5.json",
  }),
};
const FAILED: SeedOutcome = { seed: 3, failure: "out of memory", elapsedMs: 5_000 };

it("takes seeds, runs and parallelism, and names the flag and value it refuses", () => {
  expect(
    parseOptions(["--seeds", "1, 2,7", "--runs", "1000", "--parallel", "1", "--workers", "3"]),
  ).toEqual({
    seeds: [1, 2, 7],
    runs: 1000,
    parallel: 1,
    workers: 3,
    outDir: ".",
  });
  // By default the cores are shared among the seeds that run at once.
  expect(parseOptions(["--parallel", "1"]).workers).toBe(defaultWorkers());
  expect(() => parseOptions(["--workers", "0"])).toThrow('--workers is "0", expected an integer');
  expect(parseOptions([]).seeds).toEqual([1, 2, 3, 4, 5, 6, 7]);
  expect(() => parseOptions(["--seeds", "1,x"])).toThrow('--seeds is "x", expected an integer');
  expect(() => parseOptions(["--seeds", "4,4"])).toThrow(
    '--seeds is "4,4", expected each seed once',
  );
  expect(() => parseOptions(["--runs", "0"])).toThrow('--runs is "0", expected an integer from 1');
  expect(() => parseOptions(["--parallel", "1000"])).toThrow('--parallel is "1000"');
  expect(() => parseOptions(["--seed", "1"])).toThrow("--seed");
});

it("prints each seed's finding with its shrunk schedule and replay command", () => {
  expect(describeSeed(NOTHING)).toEqual(["seed 1: nothing found in 1,000 schedules (200.0 s)"]);
  expect(describeSeed(FOUND)).toEqual([
    "seed 5: FOUND recovery violated after 40 schedules, shrunk in 12 more runs (9.1 s)",
    "  the backlog did not drain",
    "  +  0.5 s  process.pause service=pusher  (for 2.0 s)",
    "  +  0.9 s  config.push-empty",
    "  saved: out/spillway-schedule-hardened-seed5.json",
    "  replay: spillway replay out/spillway-schedule-hardened-seed5.json --runtime process",
  ]);
  expect(describeSeed(FAILED)).toEqual(["seed 3: explore failed after 5.0 s: out of memory"]);
});

it("totals the seeds and exits 1 when any seed found something, 3 when one could not explore", () => {
  expect(summarize([NOTHING, FOUND, FAILED], 300_000)).toEqual({
    line: "total: 3 seeds, 1,040 schedules in 300.0 s; found on seed 5; explore failed on seed 3",
    exitCode: 1,
  });
  expect(summarize([NOTHING, FAILED], 1_000).exitCode).toBe(3);
  expect(summarize([NOTHING], 1_000)).toEqual({
    line: "total: 1 seed, 1,000 schedules in 1.0 s; nothing found",
    exitCode: 0,
  });
});
