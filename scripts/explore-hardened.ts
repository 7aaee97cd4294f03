// `npm run explore:hardened -- --seeds 1,2,3,4,5,6,7 --runs 1000 [--parallel 1] [--workers n] [--out-dir .]`
// A larger budget for exploring the hardened profile than the test command can afford (its
// property runs 200 schedules on one seed; a silent loss needed 113 schedules on seed 7, see
// docs/simulator.md). Each seed is one `spillway explore --profile hardened` process, at most
// `--parallel` at a time, each on `--workers` threads (by default the cores shared among the
// seeds at a time: `--parallel 1` runs one seed on every core); the script prints what each found (the invariant, schedules run,
// time, the shrunk schedule and where it was saved) and a total. Exit 0: nothing found;
// 1: some seed found a violation or a failed run; 2: bad input; 3: an explore process failed.

import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { execa } from "execa";
import { EXIT } from "../harness/cli/exit.ts";
import { formatStep } from "../harness/cli/explore-command.ts";
import { defaultWorkers, type ExploreResult } from "../harness/explore/explore.ts";
import { WORKERS_MAX } from "../harness/explore/pool.ts";
import { plural } from "../harness/invariants/format.ts";

const CLI = fileURLToPath(new URL("../harness/cli/main.ts", import.meta.url));
const MAX_SEEDS = 1_000;
const MAX_RUNS = 1_000_000;

export interface ExploreHardenedOptions {
  seeds: number[];
  runs: number;
  parallel: number;
  /** Worker threads of each explore process (`spillway explore --workers`). */
  workers: number;
  outDir: string;
}

/** What one seed's explore process gave: its result, or why it gave none. */
export type SeedOutcome =
  | { seed: number; result: ExploreResult & { file: string | null } }
  | { seed: number; failure: string; elapsedMs: number };

function integerIn(flag: string, value: string, min: number, max: number): number {
  const number = Number(value);
  if (value.trim() === "" || !Number.isSafeInteger(number) || number < min || number > max)
    throw new RangeError(`${flag} is "${value}", expected an integer from ${min} to ${max}`);
  return number;
}

export function parseOptions(argv: string[]): ExploreHardenedOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      seeds: { type: "string", default: "1,2,3,4,5,6,7" },
      runs: { type: "string", default: "1000" },
      parallel: { type: "string", default: "1" },
      workers: { type: "string" },
      "out-dir": { type: "string", default: "." },
    },
    strict: true,
    allowPositionals: false,
  });
  const seeds = values.seeds
    .split(",")
    .map((seed) => integerIn("--seeds", seed.trim(), 0, 2 ** 31 - 1));
  if (seeds.length > MAX_SEEDS)
    throw new RangeError(`--seeds lists ${seeds.length} seeds, expected at most ${MAX_SEEDS}`);
  if (new Set(seeds).size !== seeds.length)
    throw new RangeError(`--seeds is "${values.seeds}", expected each seed once`);
  const parallel = integerIn("--parallel", values.parallel, 1, availableParallelism());
  return {
    seeds,
    runs: integerIn("--runs", values.runs, 1, MAX_RUNS),
    parallel,
    workers:
      values.workers === undefined
        ? Math.max(1, Math.floor(defaultWorkers() / parallel))
        : integerIn("--workers", values.workers, 1, WORKERS_MAX),
    outDir: values["out-dir"],
  };
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** The lines printed for one seed. */
export function describeSeed(outcome: SeedOutcome): string[] {
  if ("failure" in outcome)
    return [
      `seed ${outcome.seed}: explore failed after ${seconds(outcome.elapsedMs)}: ${outcome.failure}`,
    ];
  const { seed, result } = outcome;
  if (!result.found) {
    return [
      `seed ${seed}: nothing found in ${plural(result.runs, "schedule")} (${seconds(result.elapsedMs)}${result.interrupted ? ", stopped by its time limit" : ""})`,
    ];
  }
  const what =
    result.error === null ? `${result.invariant} violated` : `a run failed (${result.error})`;
  const lines = [
    `seed ${seed}: FOUND ${what} after ${plural(result.runs, "schedule")}, shrunk in ${result.shrinkRuns} more runs (${seconds(result.elapsedMs)})`,
  ];
  if (result.summary !== null) lines.push(`  ${result.summary}`);
  for (const step of result.schedule?.steps ?? []) lines.push(`  ${formatStep(step)}`);
  if (result.file !== null)
    lines.push(
      `  saved: ${result.file}`,
      `  replay: spillway replay ${result.file} --runtime process`,
    );
  return lines;
}

/** The total line, and the exit code it stands for. */
export function summarize(
  outcomes: SeedOutcome[],
  elapsedMs: number,
): { line: string; exitCode: number } {
  const found = outcomes.filter((outcome) => "result" in outcome && outcome.result.found);
  const failed = outcomes.filter((outcome) => "failure" in outcome);
  const schedules = outcomes.reduce(
    (sum, outcome) => sum + ("result" in outcome ? outcome.result.runs : 0),
    0,
  );
  const seedsOf = (list: SeedOutcome[]): string =>
    `${list.length === 1 ? "seed" : "seeds"} ${list.map((outcome) => outcome.seed).join(",")}`;
  const parts = [
    `total: ${plural(outcomes.length, "seed")}, ${plural(schedules, "schedule")} in ${seconds(elapsedMs)}`,
    found.length === 0 ? "nothing found" : `found on ${seedsOf(found)}`,
    ...(failed.length === 0 ? [] : [`explore failed on ${seedsOf(failed)}`]),
  ];
  const exitCode =
    found.length > 0
      ? EXIT.notAsExpected
      : failed.length > 0
        ? EXIT.harnessFailed
        : EXIT.asExpected;
  return { line: parts.join("; "), exitCode };
}

async function exploreSeed(seed: number, options: ExploreHardenedOptions): Promise<SeedOutcome> {
  const started = Date.now();
  const file = join(options.outDir, `spillway-schedule-hardened-seed${seed}.json`);
  const child = await execa(
    process.execPath,
    [
      CLI,
      "explore",
      "--profile",
      "hardened",
      "--seed",
      String(seed),
      "--runs",
      String(options.runs),
      "--workers",
      String(options.workers),
      "--out",
      file,
      "--json",
    ],
    { reject: false, stdin: "ignore" },
  );
  const elapsedMs = Date.now() - started;
  const line = child.stdout.trim().split("\n").pop() ?? "";
  try {
    return { seed, result: JSON.parse(line) as ExploreResult & { file: string | null } };
  } catch {
    const why =
      child.stderr.trim().split("\n").slice(-3).join(" | ") ||
      `exit ${child.exitCode ?? child.signal}`;
    return { seed, failure: why, elapsedMs };
  }
}

async function main(): Promise<number> {
  let options: ExploreHardenedOptions;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`explore-hardened: ${(error as Error).message}`);
    console.error(
      "usage: npm run explore:hardened -- [--seeds 1,2,3] [--runs 1000] [--parallel 1] [--workers n] [--out-dir .]",
    );
    return EXIT.badInput;
  }
  console.log(
    `explore-hardened: seeds ${options.seeds.join(",")}, ${options.runs} schedules each, ${options.parallel} at a time on ${plural(options.workers, "worker thread")} each`,
  );
  const started = Date.now();
  const outcomes: SeedOutcome[] = [];
  const queue = [...options.seeds];
  const worker = async (): Promise<void> => {
    for (let seed = queue.shift(); seed !== undefined; seed = queue.shift()) {
      const outcome = await exploreSeed(seed, options);
      outcomes.push(outcome);
      console.log(describeSeed(outcome).join("\n"));
    }
  };
  await Promise.all(Array.from({ length: options.parallel }, worker));
  outcomes.sort((a, b) => options.seeds.indexOf(a.seed) - options.seeds.indexOf(b.seed));
  const { line, exitCode } = summarize(outcomes, Date.now() - started);
  console.log(line);
  return exitCode;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await main();
