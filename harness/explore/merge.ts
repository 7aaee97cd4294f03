// `spillway explore merge` (docs/simulator.md, "Workers and shards"): the results of the shards
// of one search (`spillway explore --shard i/n --json`, on as many machines) combined into the
// result of the whole. The shards must come from the same search (seed, profile, flaws, fault
// families, invariant, runs, faults per schedule, shard count) and be each shard once. The
// violation with the lowest index among the seed's schedules wins, with the schedule its shard
// shrank: the one an unsharded run finds and shrinks. Runs add up over every shard, so they
// count schedules past that violation that other shards ran too.

import { readFile } from "node:fs/promises";
import { z } from "zod";
import { FLAW_NAMES, PROFILE_NAMES } from "../../pipeline/core/flaws.ts";
import { ExperimentError, parseWithSchema } from "../experiment/definition.ts";
import { FAULT_FAMILIES } from "../faults/fault.ts";
import { INVARIANT_NAMES, type InvariantName } from "../invariants/types.ts";
import { WHOLE } from "./draw.ts";
import type { ExploreResult } from "./explore.ts";
import { scheduleSchema } from "./schedule.ts";

const WHAT = "`spillway explore --json` result";

/** Most shards of one search (`--shard i/n`). */
export const SHARDS_MAX = 10_000;

const count = z.number().int().min(0);
const invariant = z.enum(INVARIANT_NAMES);

const resultSchema = z
  .looseObject({
    found: z.boolean(),
    runs: count,
    heldRuns: count,
    unknownRuns: count,
    unknownByInvariant: z.partialRecord(invariant, count),
    firstUnknown: z
      .object({
        index: count,
        steps: scheduleSchema.shape.steps,
        invariants: z.array(z.object({ name: invariant, summary: z.string() })),
      })
      .nullable(),
    shrinkRuns: count,
    seed: count,
    profile: z.enum(PROFILE_NAMES),
    flaws: z.array(z.enum(FLAW_NAMES)).nullable(),
    families: z.array(z.enum(FAULT_FAMILIES)).nullable(),
    invariantSought: invariant.nullable(),
    runsMax: count,
    stepsMax: count,
    shard: z
      .object({ index: z.number().int().min(1), count: z.number().int().min(1).max(SHARDS_MAX) })
      .refine((shard) => shard.index <= shard.count, "expected an index from 1 to the count"),
    violationIndex: count.nullable(),
    invariant: invariant.nullable(),
    summary: z.string().nullable(),
    evidence: z.record(z.string(), z.unknown()).nullable(),
    error: z.string().nullable(),
    schedule: scheduleSchema.nullable(),
    interrupted: z.boolean(),
    elapsedMs: z.number().min(0),
  })
  .refine(
    (result) => !result.found || (result.violationIndex !== null && result.schedule !== null),
    {
      message: "a result that found something names its violationIndex and schedule",
    },
  );

export interface ShardResult {
  /** Where it was read from, for errors. */
  file: string;
  result: ExploreResult;
}

export async function readShardResult(file: string): Promise<ShardResult> {
  let input: unknown;
  try {
    input = JSON.parse(await readFile(file, "utf8"));
  } catch (error) {
    throw new ExperimentError(file, [`cannot be read as JSON: ${(error as Error).message}`], WHAT);
  }
  const result = parseWithSchema(resultSchema, input, file, WHAT);
  return { file, result: result as ExploreResult };
}

/** What every shard of one search agrees on. */
const SEARCH_FIELDS = [
  "seed",
  "profile",
  "flaws",
  "families",
  "invariantSought",
  "runsMax",
  "stepsMax",
] as const;

function checkOneSearch(shards: readonly ShardResult[]): void {
  const [first, ...others] = shards;
  if (first === undefined) throw new ExperimentError("merge", ["expected at least one result"]);
  const problems: string[] = [];
  for (const other of others) {
    for (const field of SEARCH_FIELDS) {
      const mine = JSON.stringify(other.result[field]);
      const theirs = JSON.stringify(first.result[field]);
      if (mine !== theirs)
        problems.push(
          `${other.file}: ${field} is ${mine}, but ${first.file} has ${theirs}: shards of one search share it`,
        );
    }
    if (other.result.shard.count !== first.result.shard.count)
      problems.push(
        `${other.file}: shard count is ${other.result.shard.count}, but ${first.file} has ${first.result.shard.count}`,
      );
  }
  const byIndex = new Map<number, string>();
  for (const { file, result } of shards) {
    const seen = byIndex.get(result.shard.index);
    if (seen !== undefined)
      problems.push(
        `${file}: shard ${result.shard.index}/${result.shard.count} again (also ${seen}): expected each shard once`,
      );
    byIndex.set(result.shard.index, file);
  }
  if (problems.length === 0) {
    const missing = Array.from({ length: first.result.shard.count }, (_, at) => at + 1).filter(
      (index) => !byIndex.has(index),
    );
    if (missing.length > 0)
      problems.push(
        `shard ${missing.slice(0, 10).join(", ")}${missing.length > 10 ? ", …" : ""} of ${first.result.shard.count} missing: the earliest violation needs every shard's result`,
      );
  }
  if (problems.length > 0) throw new ExperimentError("merge", problems, "set of shard results");
}

function earliest<T>(items: readonly T[], index: (item: T) => number | null): T | null {
  let best: T | null = null;
  for (const item of items) {
    const at = index(item);
    if (at !== null && (best === null || at < index(best)!)) best = item;
  }
  return best;
}

/** The result of the whole search, from every shard's (in any order). */
export function mergeShards(shards: readonly ShardResult[]): ExploreResult {
  checkOneSearch(shards);
  const results = shards.map((shard) => shard.result);
  const found = earliest(
    results.filter((result) => result.found),
    (result) => result.violationIndex,
  );
  const unknownByInvariant: Partial<Record<InvariantName, number>> = {};
  for (const result of results)
    for (const [name, runs] of Object.entries(result.unknownByInvariant) as Array<
      [InvariantName, number]
    >)
      unknownByInvariant[name] = (unknownByInvariant[name] ?? 0) + runs;
  const sum = (field: "runs" | "heldRuns" | "unknownRuns"): number =>
    results.reduce((total, result) => total + result[field], 0);
  const first = results[0]!;
  return {
    found: found !== null,
    runs: sum("runs"),
    heldRuns: sum("heldRuns"),
    unknownRuns: sum("unknownRuns"),
    unknownByInvariant,
    firstUnknown:
      earliest(
        results.map((result) => result.firstUnknown),
        (unknown) => unknown?.index ?? null,
      ) ?? null,
    shrinkRuns: found?.shrinkRuns ?? 0,
    seed: first.seed,
    profile: first.profile,
    flaws: first.flaws,
    families: first.families,
    invariantSought: first.invariantSought,
    runsMax: first.runsMax,
    stepsMax: first.stepsMax,
    shard: WHOLE,
    violationIndex: found?.violationIndex ?? null,
    invariant: found?.invariant ?? null,
    summary: found?.summary ?? null,
    evidence: found?.evidence ?? null,
    error: found?.error ?? null,
    schedule: found?.schedule ?? null,
    interrupted: results.some((result) => result.interrupted),
    // The shards ran side by side: the whole took as long as the slowest.
    elapsedMs: Math.max(...results.map((result) => result.elapsedMs)),
  };
}
