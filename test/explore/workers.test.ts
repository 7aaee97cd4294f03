// Exploration that scales out (docs/simulator.md, "Workers and shards"): the schedules of a seed
// are fast-check's, drawn without running them; worker threads run them and the result is the
// same on one thread or two; shards of a seed merged name the same first violation and shrunk
// schedule as the whole; bad --workers and --shard values are refused; no thread is left.

import { CommanderError } from "commander";
import { execa } from "execa";
import fc from "fast-check";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { exploreCommand, formatExplore } from "../../harness/cli/explore-command.ts";
import { drawSchedules } from "../../harness/explore/draw.ts";
import { explore, scenarioWorld, type ExploreResult } from "../../harness/explore/explore.ts";
import { kindsOf, scheduleArbitrary } from "../../harness/explore/generators.ts";
import { mergeShards, readShardResult, type ShardResult } from "../../harness/explore/merge.ts";
import { workerPool } from "../../harness/explore/pool.ts";
import type { ScheduleStep } from "../../harness/explore/schedule.ts";
import { useTempDir } from "../support/temp-dir.ts";

const CLI = path.resolve("harness/cli/main.ts");
const directory = useTempDir("spillway-workers-");

// Of seed 1's first six schedules, only the fifth (index 4) loses events with this flaw
// (measured), so a shard of three runs two schedules and one shard shrinks; a small shrinking
// budget keeps each search to about 15 runs.
const SEARCH = {
  profile: "hardened",
  flaws: ["forwarder.appliesEmptyConfig"],
  runs: 6,
  seed: 1,
  maxShrinkRuns: 3,
} as const;
const SHARDS = 3;

const once = <T>(make: () => Promise<T>): (() => Promise<T>) => {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
};
const oneThread = once(() => explore({ ...SEARCH, flaws: [...SEARCH.flaws], workers: 1 }));
const threadsBefore = process.getActiveResourcesInfo().filter((kind) => kind === "MessagePort");
const twoThreads = once(() => explore({ ...SEARCH, flaws: [...SEARCH.flaws], workers: 2 }));
/** Each shard's `--json` result as a file, read back as merge reads it. */
const shards = once(() =>
  Promise.all(
    Array.from({ length: SHARDS }, async (_, at): Promise<ShardResult> => {
      const shard = { index: at + 1, count: SHARDS };
      const result = await explore({ ...SEARCH, flaws: [...SEARCH.flaws], workers: 1, shard });
      const file = path.join(directory, `shard${shard.index}.json`);
      writeFileSync(file, JSON.stringify(result));
      return readShardResult(file);
    }),
  ),
);

function timeless(result: ExploreResult): Omit<ExploreResult, "elapsedMs"> {
  const { elapsedMs: _elapsedMs, ...rest } = result;
  return rest;
}

describe("the schedules of a seed", () => {
  const arbitrary = scheduleArbitrary(kindsOf(undefined), scenarioWorld());

  it("are the values fast-check's check tests, in its order, across drawing chunks", async () => {
    const tested: ScheduleStep[][] = [];
    await fc.check(
      fc.property(arbitrary, (steps) => {
        tested.push(steps);
      }),
      { seed: 7, numRuns: 300 },
    );
    const drawn = [...drawSchedules(arbitrary, 7, 300)];
    expect(drawn.map((schedule) => schedule.index)).toEqual(tested.map((_, index) => index));
    expect(drawn.map((schedule) => schedule.steps)).toEqual(tested);
  });

  it("are split between shards by index, each once", () => {
    const whole = [...drawSchedules(arbitrary, 3, 100)];
    const split = [1, 2, 3, 4].flatMap((index) => [
      ...drawSchedules(arbitrary, 3, 100, { index, count: 4 }),
    ]);
    expect(split.toSorted((a, b) => a.index - b.index)).toEqual(whole);
    expect([...drawSchedules(arbitrary, 3, 100, { index: 2, count: 4 })][1]!.index).toBe(5);
  });
});

describe("explore on worker threads", { timeout: 120_000 }, () => {
  it("finds and shrinks the same as on one thread", async () => {
    const [one, two] = [await oneThread(), await twoThreads()];
    expect(one).toMatchObject({ found: true, violationIndex: 4, runs: 5, heldRuns: 4 });
    expect(timeless(two)).toEqual(timeless(one));
  });

  it("leaves no worker thread behind", async () => {
    await twoThreads();
    const after = process.getActiveResourcesInfo().filter((kind) => kind === "MessagePort");
    expect(after).toEqual(threadsBefore);
  });

  it("a worker's error fails its run and every later one, rather than leaving them waiting", async () => {
    const pool = workerPool(1, { profile: "hardened", seed: 1 });
    try {
      await expect(pool.run(null as unknown as ScheduleStep[])).rejects.toThrow(
        /^explore worker 1 of 1 failed: TypeError/,
      );
      // Once failed, the pool runs nothing more.
      await expect(pool.run([])).rejects.toThrow(/explore worker 1 of 1 failed/);
    } finally {
      await pool.close();
    }
  });
});

describe("shards", { timeout: 120_000 }, () => {
  it("each run their share of the schedules, and one finds the violation", async () => {
    const results = (await shards()).map((shard) => shard.result);
    expect(results.map((result) => result.runs)).toEqual([2, 2, 2]);
    expect(results.map((result) => result.violationIndex)).toEqual([null, 4, null]);
  });

  it("merged name the same first violation and shrunk schedule as the whole", async () => {
    const [whole, merged] = [await oneThread(), mergeShards((await shards()).toReversed())];
    const { runs: _runs, heldRuns: _held, elapsedMs: _elapsed, ...same } = whole;
    expect(merged).toMatchObject(same);
    // Runs add up over the shards: here every schedule ran, the sixth after the violation.
    expect(merged).toMatchObject({ runs: 6, heldRuns: 5 });
  });

  it("of different searches, twice the same or with one missing are refused", async () => {
    const [first, second, third] = await shards();
    const other = (fields: Partial<ExploreResult>, file = "other.json"): ShardResult => ({
      file,
      result: { ...third!.result, ...fields },
    });
    expect(() => mergeShards([first!, second!, other({ seed: 2 })])).toThrow(
      /other\.json: seed is 2, but .*shard1\.json has 1/,
    );
    expect(() => mergeShards([first!, second!, other({ shard: { index: 3, count: 4 } })])).toThrow(
      /other\.json: shard count is 4, but .*shard1\.json has 3/,
    );
    expect(() => mergeShards([first!, second!, other({}, "again.json"), third!])).toThrow(
      /shard 3\/3 again/,
    );
    expect(() => mergeShards([first!, third!])).toThrow(/shard 2 of 3 missing/);
  });

  it("spillway explore merge prints what explore prints, saves the schedule and exits 1", async () => {
    const files = (await shards()).map((shard) => shard.file);
    const out = path.join(directory, "merged-schedule.json");
    const merged = await execa(
      process.execPath,
      [CLI, "explore", "merge", ...files, "--out", out],
      {
        reject: false,
      },
    );
    expect(merged.exitCode, merged.stderr).toBe(1);
    const whole = await oneThread();
    const expected = mergeShards(await shards());
    expect(merged.stdout).toBe(formatExplore(expected, out).trimEnd());
    expect(JSON.parse(readFileSync(out, "utf8"))).toEqual(whole.schedule);
    // Its dry run reads and checks the same results, says what it would find, and writes nothing.
    const dryOut = path.join(directory, "dry-merged-schedule.json");
    const dry = await execa(
      process.execPath,
      [CLI, "explore", "merge", ...files, "--out", dryOut, "--dry-run", "--json"],
      { reject: false },
    );
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({
      dryRun: true,
      shards: 3,
      found: true,
      runs: expected.runs,
    });
    expect(existsSync(dryOut)).toBe(false);
    const missing = await execa(
      process.execPath,
      [CLI, "explore", "merge", files[0]!, files[2]!, "--dry-run"],
      { reject: false },
    );
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toContain("shard 2 of 3 missing");
  });
});

describe("spillway explore flags", () => {
  const refusal = async (...args: string[]): Promise<CommanderError> => {
    const command = exploreCommand()
      .exitOverride()
      .configureOutput({ writeErr: () => {}, writeOut: () => {} });
    return command.parseAsync(args, { from: "user" }).then(
      () => expect.fail(`${args.join(" ")} was accepted`),
      (error: unknown) => error as CommanderError,
    );
  };

  it.each([
    ["--workers", "0"],
    ["--workers", "65"],
    ["--workers", "two"],
    ["--shard", "0/3"],
    ["--shard", "4/3"],
    ["--shard", "x"],
  ])("refuses %s %s, naming the flag and the value", async (flag, value) => {
    const error = await refusal(flag, value);
    expect(error).toBeInstanceOf(CommanderError);
    expect(error.code).toBe("commander.invalidArgument");
    expect(error.message).toContain(`"${value}" is not valid for ${flag}`);
  });

  it("--dry-run prints the shard's share of the search and runs nothing", async () => {
    const dry = await execa(
      process.execPath,
      [CLI, "explore", "--runs", "10", "--shard", "2/3", "--workers", "4", "--dry-run", "--json"],
      { reject: false },
    );
    expect(dry.exitCode, dry.stderr).toBe(0);
    // Indices 1, 4 and 7 of the first 10: three schedules, so three workers at most.
    expect(JSON.parse(dry.stdout)).toMatchObject({
      dryRun: true,
      shard: { index: 2, count: 3 },
      schedules: 3,
      workers: 3,
    });
  });

  it("a refused value exits 2", async () => {
    const refused = await execa(process.execPath, [CLI, "explore", "--shard", "4/3"], {
      reject: false,
    });
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain('"4/3" is not valid for --shard');
  });
});
