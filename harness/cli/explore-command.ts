// `spillway explore`: property-based search for fault schedules that break an invariant, on the
// simulator. Prints the minimal schedule, the invariant with its evidence, and the commands
// that replay it on the simulator and on processes. Runs that broke nothing but left an
// invariant unknown are counted and shown apart. Exit 0: nothing found (whatever the unknown
// runs); 1: found; 2: bad input; 3: a run failed (a harness error, printed with its minimal
// schedule, or a worker thread failed). `--workers` runs the schedules on worker threads,
// `--shard i/n` runs a deterministic share of them, and `spillway explore merge` combines the
// shards' `--json` results (docs/simulator.md, "Workers and shards").

import { Command, InvalidArgumentError, Option } from "commander";
import { writeFile } from "node:fs/promises";
import { PROFILE_NAMES, type ProfileName } from "../../pipeline/core/flaws.ts";
import { shardSize, WHOLE, type Shard } from "../explore/draw.ts";
import { defaultWorkers, explore, threadCount, type ExploreResult } from "../explore/explore.ts";
import { mergeShards, readShardResult, SHARDS_MAX } from "../explore/merge.ts";
import { WORKERS_MAX } from "../explore/pool.ts";
import { STEPS_MAX_DEFAULT } from "../explore/generators.ts";
import { exploreScenario } from "../explore/scenario.ts";
import { replayCommandLines, writeSchedule, type ScheduleStep } from "../explore/schedule.ts";
import { faultParams, renderExploreReport } from "../report/html/explore-report.ts";
import { FAULT_FAMILIES, type FaultFamily } from "../faults/fault.ts";
import { INVARIANT_NAMES, type InvariantName } from "../invariants/types.ts";
import { parseDuration } from "../experiment/duration.ts";
import { EXIT } from "./exit.ts";
import { flawList, seedNumber } from "./run-command.ts";

interface ExploreFlags {
  profile: ProfileName;
  flaws?: string;
  runs: number;
  seed: number;
  timeLimit?: number;
  faults?: FaultFamily[];
  invariant?: InvariantName;
  maxFaults: number;
  workers: number;
  shard?: Shard;
  out?: string;
  json?: boolean;
  report?: string;
  dryRun?: boolean;
}

/** What explore and merge print and write from a result. */
type OutputFlags = Pick<ExploreFlags, "out" | "json" | "report" | "dryRun">;

const DRY_RUN_HELP =
  "check the options and print what would run; runs nothing, writes nothing; exit 0 valid, 2 not";

/** Prints a dry run's plan: a JSON object with --json, else a line per entry. */
function printDryRun(plan: Record<string, unknown>, lines: string[], json: boolean | undefined) {
  process.stdout.write(
    json === true
      ? JSON.stringify({ dryRun: true, ...plan }) + "\n"
      : [...lines, "nothing run (dry run)"].join("\n") + "\n",
  );
}

/** `explore --dry-run`: the search the options describe, and this shard's share of it. */
function planSearch(flags: ExploreFlags, flaws: ReturnType<typeof flawList>): void {
  const shard = flags.shard ?? WHOLE;
  const schedules = shardSize(flags.runs, shard);
  const plan = {
    profile: flags.profile,
    flaws: flaws ?? null,
    families: flags.faults ?? null,
    invariantSought: flags.invariant ?? null,
    seed: flags.seed,
    runsMax: flags.runs,
    stepsMax: flags.maxFaults,
    shard,
    schedules,
    workers: threadCount(flags.workers, flags.runs, shard),
    timeLimitMs: flags.timeLimit ?? null,
    out: flags.out ?? null,
    report: flags.report ?? null,
  };
  printDryRun(
    plan,
    [
      `spillway explore: ${exploreFocus(plan)}`,
      `schedules: ${schedules} of the seed's first ${plan.runsMax}${shard.count === 1 ? "" : ` (shard ${shard.index}/${shard.count}: index mod ${shard.count} = ${shard.index - 1})`}, at most ${plan.stepsMax} faults each, on the simulator (${exploreScenario().name} scenario)`,
      `workers: ${plan.workers}${plan.timeLimitMs === null ? "" : `; time limit ${(plan.timeLimitMs / 1000).toFixed(0)} s`}`,
      `a violation found is shrunk and saved to ${plan.out ?? defaultOut(plan)}${plan.report === null ? "" : `; report ${plan.report}`}`,
    ],
    flags.json,
  );
}

function positiveInteger(name: string, max: number) {
  return (value: string): number => {
    const number = Number(value);
    if (!Number.isSafeInteger(number) || number < 1 || number > max)
      throw new InvalidArgumentError(`"${value}" is not valid for ${name}; expected 1 to ${max}`);
    return number;
  };
}

function familyList(value: string): FaultFamily[] {
  const families = value
    .split(",")
    .map((family) => family.trim())
    .filter((family) => family.length > 0);
  const unknown = families.find(
    (family) => !(FAULT_FAMILIES as readonly string[]).includes(family),
  );
  if (unknown !== undefined || families.length === 0) {
    throw new InvalidArgumentError(
      `"${unknown ?? value}" is not a fault family; expected a comma-separated list of ${FAULT_FAMILIES.join(", ")}`,
    );
  }
  return families as FaultFamily[];
}

/** `--shard i/n`: shard i (1-based) of n. */
function shardSpec(value: string): Shard {
  const match = /^(\d+)\/(\d+)$/.exec(value.trim());
  const index = Number(match?.[1]);
  const count = Number(match?.[2]);
  if (match === null || index < 1 || index > count || count > SHARDS_MAX)
    throw new InvalidArgumentError(
      `"${value}" is not valid for --shard; expected i/n with 1 <= i <= n <= ${SHARDS_MAX}, e.g. 2/3`,
    );
  return { index, count };
}

function timeLimit(value: string): number {
  const ms = parseDuration(value);
  if (ms === null || ms <= 0) {
    throw new InvalidArgumentError(
      `"${value}" is not a time limit; expected a duration such as 90s, 5m or 30000ms`,
    );
  }
  return ms;
}

/** `+3.0 s  config.add-job tenant=t000 dataset=dns_logs  (for 2.0 s)` */
export function formatStep(step: ScheduleStep): string {
  const details = faultParams(step);
  const lasting = step.for === undefined ? "" : `  (for ${(step.for / 1000).toFixed(1)} s)`;
  return `+${(step.at / 1000).toFixed(1).padStart(5)} s  ${step.fault.kind}${details === "" ? "" : ` ${details}`}${lasting}`;
}

function defaultOut(result: Pick<ExploreResult, "profile" | "seed" | "shard">): string {
  const { index, count } = result.shard;
  const shard = count === 1 ? "" : `-shard${index}of${count}`;
  return `spillway-schedule-${result.profile}-seed${result.seed}${shard}.json`;
}

/**
 * The runs that held and those left unknown, which are neither: how many, which invariants,
 * and the first such schedule.
 */
function describeUnknown(result: ExploreResult, lead = ""): string[] {
  const first = result.firstUnknown;
  if (result.unknownRuns === 0 || first === null)
    return [`${lead}every one of the ${result.heldRuns} runs held`];
  const which = Object.entries(result.unknownByInvariant)
    .map(([name, runs]) => `${name} ${runs}`)
    .join(", ");
  return [
    `${lead}${result.heldRuns} held; ${result.unknownRuns} left an invariant unknown (${which}): not violations, and not passes either`,
    `first unknown schedule (${first.steps.length} fault${first.steps.length === 1 ? "" : "s"}):`,
    ...first.steps.map((step) => `  ${formatStep(step)}`),
    ...first.invariants.map(({ name, summary }) => `  ${name} unknown: ${summary}`),
  ];
}

/** What was searched: profile, flaws, fault families, invariant, seed, shard. */
type Search = Pick<
  ExploreResult,
  "profile" | "flaws" | "families" | "invariantSought" | "seed" | "shard"
>;

function exploreFocus(search: Search): string {
  return [
    `profile ${search.profile}`,
    ...(search.flaws === null ? [] : [`flaws ${search.flaws.join(",") || "none"}`]),
    `faults ${(search.families ?? FAULT_FAMILIES).join(",")}`,
    ...(search.invariantSought === null ? [] : [`invariant ${search.invariantSought}`]),
    `seed ${search.seed}`,
    ...(search.shard.count === 1 ? [] : [`shard ${search.shard.index}/${search.shard.count}`]),
  ].join(", ");
}

/** What `spillway explore` prints for a result (without --json). */
export function formatExplore(result: ExploreResult, file: string | null): string {
  const focus = exploreFocus(result);
  const seconds = (result.elapsedMs / 1000).toFixed(1);
  const lines = [`spillway explore: ${focus}`];
  if (!result.found) {
    lines.push(
      `nothing found: ${result.runs} schedules ran on the simulator without violating ${result.invariantSought ?? "any invariant"} (${seconds} s${result.interrupted ? ", stopped by --time-limit" : ""})`,
      ...describeUnknown(result),
    );
    return lines.join("\n") + "\n";
  }
  const schedule = result.schedule!;
  lines.push(
    result.error === null
      ? `found: ${result.invariant} violated after ${result.runs} schedules; shrunk in ${result.shrinkRuns} more runs (${seconds} s)`
      : `found: a run failed after ${result.runs} schedules: ${result.error}`,
  );
  if (result.summary !== null) lines.push(`  ${result.summary}`);
  if (result.unknownRuns > 0) lines.push(...describeUnknown(result, "before it, "));
  lines.push(
    `minimal schedule (${schedule.steps.length} fault${schedule.steps.length === 1 ? "" : "s"}):`,
  );
  for (const step of schedule.steps) lines.push(`  ${formatStep(step)}`);
  if (result.evidence !== null) lines.push(`evidence: ${JSON.stringify(result.evidence)}`);
  if (file !== null) {
    lines.push(`saved: ${file}`, "replay:", ...replayCommandLines(file).map((line) => `  ${line}`));
  }
  return lines.join("\n") + "\n";
}

export function exploreCommand(): Command {
  return new Command("explore")
    .description(
      "Generate fault schedules (swarm style), run them on the simulator, check every invariant, and shrink the first violation to a minimal schedule with replay commands.",
    )
    .addOption(
      new Option("--profile <profile>", "profile of the pipeline")
        .choices(PROFILE_NAMES)
        .default("hardened"),
    )
    .option("--flaws <list>", "comma-separated flaws replacing the profile's, e.g. one flaw alone")
    .option("--runs <n>", "schedules to try", positiveInteger("--runs", 1_000_000), 100)
    .option("--seed <n>", "seed of the generator and of every run", seedNumber, 1)
    .option("--time-limit <duration>", "stop after this long, e.g. 60s or 5m", timeLimit)
    .option(
      "--faults <families>",
      `draw only these fault families (${FAULT_FAMILIES.join(", ")}), e.g. config`,
      familyList,
    )
    .addOption(
      new Option(
        "--invariant <name>",
        "look for and shrink towards a violation of this invariant only",
      ).choices(INVARIANT_NAMES),
    )
    .option(
      "--max-faults <n>",
      "most faults in one schedule",
      positiveInteger("--max-faults", 50),
      STEPS_MAX_DEFAULT,
    )
    .option(
      "--out <file>",
      "where to save a minimal schedule (default spillway-schedule-<profile>-seed<seed>.json)",
    )
    .option("--json", "print one JSON object instead of text")
    .option(
      "--report <file>",
      "write an HTML report: the minimal schedule as a timeline beside the violated invariant's evidence (docs/reports.md)",
    )
    .option(
      "--workers <n>",
      "worker threads running the schedules (the result is the same whatever their number)",
      positiveInteger("--workers", WORKERS_MAX),
      defaultWorkers(),
    )
    .option(
      "--shard <i/n>",
      "run shard i of n of the seed's schedules (one machine each); combine their --json results with `spillway explore merge`",
      shardSpec,
    )
    .option("--dry-run", DRY_RUN_HELP)
    .action(async (flags: ExploreFlags) => {
      const flaws = flawList(flags.flaws);
      if (flags.dryRun === true) return planSearch(flags, flaws);
      const tty = process.stderr.isTTY === true && flags.json !== true;
      const result = await explore({
        profile: flags.profile,
        ...(flaws === undefined ? {} : { flaws }),
        runs: flags.runs,
        seed: flags.seed,
        ...(flags.timeLimit === undefined ? {} : { timeLimitMs: flags.timeLimit }),
        ...(flags.faults === undefined ? {} : { families: flags.faults }),
        ...(flags.invariant === undefined ? {} : { invariant: flags.invariant }),
        maxSteps: flags.maxFaults,
        workers: flags.workers,
        ...(flags.shard === undefined ? {} : { shard: flags.shard }),
        onRun: ({ index }) => {
          if (tty && index % 10 === 0)
            process.stderr.write(`\r[explore] ${index + 1} runs\u001b[K`);
        },
      });
      if (tty) process.stderr.write("\r\u001b[K");
      await present(result, flags);
    })
    .enablePositionalOptions()
    .addCommand(mergeCommand().showHelpAfterError().exitOverride());
}

function mergeCommand(): Command {
  return new Command("merge")
    .description(
      "Combine the --json results of every shard of one search (spillway explore --shard i/n --json): the earliest violation wins, runs add up.",
    )
    .argument("<results...>", "each shard's `spillway explore --shard i/n --json` output, saved")
    .option(
      "--out <file>",
      "where to save the winning minimal schedule (default spillway-schedule-<profile>-seed<seed>.json)",
    )
    .option("--json", "print one JSON object instead of text")
    .option("--report <file>", "write an HTML report of the merged result (docs/reports.md)")
    .option(
      "--dry-run",
      "read and check the results as a merge would (one search, every shard once) and say what the merge would find; writes nothing; exit 0 valid, 2 not",
    )
    .action(async (files: string[], flags: OutputFlags) => {
      const shards = await Promise.all(files.map((file) => readShardResult(file)));
      const merged = mergeShards(shards);
      if (flags.dryRun !== true) return present(merged, flags);
      const { count } = shards[0]!.result.shard;
      printDryRun(
        { shards: count, files, runs: merged.runs, found: merged.found, out: flags.out ?? null },
        [
          `spillway explore merge: ${count} shard${count === 1 ? "" : "s"} of profile ${merged.profile}, seed ${merged.seed}, ${merged.runs} schedules run`,
          merged.found
            ? `would report the violation at index ${merged.violationIndex} and save its schedule to ${flags.out ?? defaultOut(merged)}`
            : "would report nothing found",
        ],
        flags.json,
      );
    });
}

/** Prints a result (text or --json), saves its schedule and report, and sets the exit code. */
async function present(result: ExploreResult, flags: OutputFlags): Promise<void> {
  let file: string | null = null;
  if (result.schedule !== null) {
    file = flags.out ?? defaultOut(result);
    await writeSchedule(file, result.schedule);
  }
  if (flags.json === true) {
    process.stdout.write(
      JSON.stringify({
        ...result,
        file,
        replay: file === null ? [] : replayCommandLines(file),
      }) + "\n",
    );
  } else {
    process.stdout.write(formatExplore(result, file));
  }
  if (flags.report !== undefined) {
    await writeFile(
      flags.report,
      renderExploreReport(
        result,
        { durationMs: exploreScenario().duration, file, focus: exploreFocus(result) },
        { generatedAt: new Date() },
      ),
    );
    if (flags.json !== true) process.stdout.write(`report: ${flags.report}\n`);
  }
  process.exitCode = !result.found
    ? EXIT.asExpected
    : result.error !== null
      ? EXIT.harnessFailed
      : EXIT.notAsExpected;
}
