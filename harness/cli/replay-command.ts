// `spillway replay <files or folders>…`: runs saved schedules (from `spillway explore`, written by
// hand, or a regression corpus such as experiments/regressions/) on the simulator, on processes
// or in containers. One schedule file prints the verdict and which invariants it saw held,
// violated and unknown; several, or a folder, print one line per schedule and a total
// (docs/simulator.md, "The regression corpus"). Each is judged against its file: its invariant
// violated (expect "reproduce", the default when it names one) or every invariant held (expect
// "hold": an unknown is not a hold). Exit 0 when every one came out as its file says, 1 when
// some did not, 2 bad input, 3 the harness failed, 130 interrupted.

import { Command } from "commander";
import { writeFile } from "node:fs/promises";
import {
  judgeReplay,
  loadCorpus,
  replaySchedule,
  type CorpusEntry,
  type Judgement,
} from "../explore/corpus.ts";
import type { Journal } from "../experiment/journal.ts";
import { expectedOutcome } from "../explore/schedule.ts";
import type { RuntimeName } from "../experiment/run-on.ts";
import { reportBeforeExit } from "../runtime/cleanup.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { formatSummary } from "../report/summary.ts";
import { EXIT, UsageError } from "./exit.ts";
import { formatStep } from "./explore-command.ts";
import { seedNumber } from "./run-command.ts";
import {
  addRuntimeOptions,
  checkRuntimeFlags,
  resolveRuntime,
  type RuntimeFlags,
} from "./runtimes.ts";

interface ReplayFlags extends RuntimeFlags {
  seed?: number;
  journal?: string;
  json?: boolean;
  dryRun?: boolean;
}

interface Replayed {
  entry: CorpusEntry;
  journal: Journal;
  judgement: Judgement;
  elapsedMs: number;
}

function formatSeen(seen: Judgement["seen"]): string {
  return (["held", "violated", "unknown"] as const)
    .map((status) => `${status}: ${seen[status].length === 0 ? "none" : seen[status].join(", ")}`)
    .join("; ");
}

/** The verdict line of a single schedule's replay: `reproduced: … on sim, as recorded`. */
function verdictLine({ entry, journal, judgement }: Replayed, runtime: string): string {
  const { invariant } = entry.schedule;
  const recorded = judgement.expect === "hold" ? "every invariant held" : `${invariant} violated`;
  if (judgement.outcome === "as-expected")
    return `reproduced: ${recorded} on ${runtime}, as recorded`;
  if (judgement.expect === "hold") {
    const { violated, unknown } = judgement.seen;
    return `not reproduced: ${[
      ...(violated.length > 0 ? [`violated: ${violated.join(", ")}`] : []),
      ...(unknown.length > 0 ? [`unknown: ${unknown.join(", ")}`] : []),
    ].join("; ")} on ${runtime} (recorded: ${recorded})`;
  }
  const status = journal.verdict?.invariants[invariant!]?.status ?? "not checked";
  return `not reproduced: ${invariant} ${status} on ${runtime} (recorded: violated)`;
}

/** One schedule, as today's `spillway replay <schedule>` always printed it. */
function printSingle(replayed: Replayed, runtime: string): void {
  const { journal, judgement } = replayed;
  process.stdout.write(formatSummary([journal], { withExpectations: false }) + "\n");
  if (judgement.outcome === "failed") process.stdout.write(`${judgement.summary}\n`);
  if (judgement.outcome !== "as-expected" && judgement.outcome !== "not-as-expected") return;
  process.stdout.write(`seen on ${runtime}: ${formatSeen(judgement.seen)}\n`);
  process.stdout.write(verdictLine(replayed, runtime) + "\n");
}

/** `ok   regressions/nov14-two-step.json  reproduced: bounded-buffer violated  (0.4 s)` */
function corpusLine({ entry, judgement, elapsedMs }: Replayed, width: number): string {
  const mark = judgement.outcome === "as-expected" ? "ok  " : "FAIL";
  return `${mark} ${entry.file.padEnd(width)}  ${judgement.summary}  (${(elapsedMs / 1000).toFixed(1)} s)`;
}

/** `12 schedules: 12 as expected, 0 not` (and those that failed or were not run). */
function totalLine(replayed: readonly Replayed[], total: number): string {
  const count = (outcome: Judgement["outcome"]): number =>
    replayed.filter((one) => one.judgement.outcome === outcome).length;
  const failed = count("failed");
  const left = total - replayed.length + count("interrupted");
  return [
    `${total} schedule${total === 1 ? "" : "s"}: ${count("as-expected")} as expected, ${count("not-as-expected")} not`,
    ...(failed > 0 ? [`${failed} failed`] : []),
    ...(left > 0 ? [`${left} interrupted or not run`] : []),
  ].join(", ");
}

function jsonLine({ entry, journal, judgement, elapsedMs }: Replayed, runtime: string): string {
  return JSON.stringify({
    file: entry.file,
    runtime,
    expect: judgement.expect,
    invariant: entry.schedule.invariant ?? null,
    outcome: judgement.outcome,
    asExpected: judgement.outcome === "as-expected",
    summary: judgement.summary,
    seen: judgement.seen,
    status: journal.status,
    elapsedMs,
  });
}

function exitCode(replayed: readonly Replayed[], total: number): number {
  const outcomes = replayed.map((one) => one.judgement.outcome);
  if (outcomes.includes("interrupted") || replayed.length < total) return EXIT.interrupted;
  if (outcomes.includes("failed")) return EXIT.harnessFailed;
  return outcomes.every((outcome) => outcome === "as-expected")
    ? EXIT.asExpected
    : EXIT.notAsExpected;
}

/** Several schedules, or a folder: a line as each finishes (or an object with --json), a total. */
function corpusPrinter(entries: readonly CorpusEntry[], flags: ReplayFlags) {
  const width = Math.max(...entries.map((entry) => entry.file.length));
  return {
    one(replayed: Replayed): void {
      process.stdout.write(
        (flags.json === true ? jsonLine(replayed, flags.runtime) : corpusLine(replayed, width)) +
          "\n",
      );
    },
    total(replayed: readonly Replayed[]): void {
      if (flags.json !== true) process.stdout.write(totalLine(replayed, entries.length) + "\n");
    },
  };
}

/**
 * Replays each entry in turn until all ran or one was interrupted. On SIGINT/SIGTERM the replay
 * in progress heals and journals (its runtime releases what it started), none starts after it,
 * and the caller still reports before the process exits with 130/143.
 */
async function replayEach(
  entries: readonly CorpusEntry[],
  runtime: RuntimeName | Runtime,
  flags: ReplayFlags,
  onReplayed: (replayed: Replayed) => void,
  report: (replayed: readonly Replayed[]) => void,
): Promise<number> {
  return reportBeforeExit("spillway replay", async (signal) => {
    const replayed: Replayed[] = [];
    for (const entry of entries) {
      if (signal.aborted) break;
      const started = Date.now();
      const journal = await replaySchedule(entry, {
        runtime,
        ...(flags.seed === undefined ? {} : { seed: flags.seed }),
        signal,
        ...(flags.toxiproxyUrl === undefined ? {} : { toxiproxyUrl: flags.toxiproxyUrl }),
      });
      const one = {
        entry,
        journal,
        judgement: judgeReplay(entry.schedule, journal),
        elapsedMs: Date.now() - started,
      };
      replayed.push(one);
      if (flags.journal !== undefined)
        await writeFile(flags.journal, JSON.stringify(journal, null, 2) + "\n");
      onReplayed(one);
      if (one.judgement.outcome === "interrupted") break;
    }
    report(replayed);
    return exitCode(replayed, entries.length);
  });
}

/**
 * `--dry-run`: every schedule, read and checked against its base experiment by loadCorpus,
 * listed with what its file expects; nothing runs.
 */
async function planReplays(entries: readonly CorpusEntry[], flags: ReplayFlags): Promise<void> {
  checkRuntimeFlags(flags);
  const plans = [];
  for (const { file, schedule } of entries) {
    const expected = expectedOutcome(schedule);
    plans.push({
      file,
      base: schedule.base,
      profile: schedule.profile,
      flaws: schedule.flaws ?? null,
      seed: flags.seed ?? schedule.seed,
      expect: expected,
      invariant: schedule.invariant ?? null,
      steps: schedule.steps,
    });
  }
  if (flags.json === true) {
    process.stdout.write(JSON.stringify({ runtime: flags.runtime, schedules: plans }) + "\n");
    return;
  }
  const lines = plans.flatMap((plan) => [
    `${plan.file}: ${plan.base}, profile ${plan.profile}${plan.flaws === null ? "" : `, flaws ${plan.flaws.join(",") || "none"}`}, seed ${plan.seed}; expect ${plan.expect === "hold" ? "every invariant held" : `${plan.invariant} violated`}`,
    ...plan.steps.map((step) => `  ${formatStep(step)}`),
  ]);
  lines.push(
    `${plans.length} schedule${plans.length === 1 ? "" : "s"} to replay on ${flags.runtime}; nothing started (dry run)`,
  );
  process.stdout.write(lines.join("\n") + "\n");
}

/**
 * One schedule file given alone: the verdict in full, as before the corpus. A folder's entries
 * are paths inside it, so only a file named alone comes back as itself (scheduleFiles).
 */
function isSingleFile(paths: readonly string[], entries: readonly CorpusEntry[]): boolean {
  return paths.length === 1 && entries.length === 1 && entries[0]!.file === paths[0];
}

export function replayCommand(): Command {
  return addRuntimeOptions(new Command("replay"), "sim")
    .description(
      "Run saved fault schedules (found by `spillway explore`, or a regression corpus) and say whether each came out as its file expects.",
    )
    .argument(
      "<schedules...>",
      'schedule files (JSON with "spillway": "schedule") or folders of them, e.g. experiments/regressions',
    )
    .option("--seed <n>", "seed of the runs (default: each schedule's)", seedNumber)
    .option("--journal <file>", "write the journal (JSON; one schedule only)")
    .option("--json", "print one JSON object per schedule instead of text")
    .option(
      "--dry-run",
      "read and check every schedule against its base experiment and list them with what each file expects; runs nothing; exit 0 valid, 2 not",
    )
    .option(
      "--toxiproxy-url <url>",
      "use this Toxiproxy instead of the embedded fault proxy (process runtime)",
    )
    .action(async (paths: string[], flags: ReplayFlags) => {
      const entries = await loadCorpus(paths);
      if (flags.journal !== undefined && entries.length > 1)
        throw new UsageError(
          `--journal "${flags.journal}" takes one schedule; ${entries.length} were given (use --json for each one's outcome)`,
        );
      if (flags.dryRun === true) return planReplays(entries, flags);
      const runtime = await resolveRuntime(flags);
      if (!isSingleFile(paths, entries) || flags.json === true) {
        const printer = corpusPrinter(entries, flags);
        process.stderr.write(
          `replaying ${entries.length} schedule${entries.length === 1 ? "" : "s"} on ${flags.runtime}\n`,
        );
        process.exitCode = await replayEach(entries, runtime, flags, printer.one, printer.total);
        return;
      }
      const { file, schedule } = entries[0]!;
      process.stderr.write(
        `replaying ${file} on ${flags.runtime}: ${schedule.base}, profile ${schedule.profile}${schedule.flaws === undefined ? "" : `, flaws ${schedule.flaws.join(",") || "none"}`}, seed ${flags.seed ?? schedule.seed}\n${schedule.steps.map((step) => `  ${formatStep(step)}\n`).join("")}`,
      );
      process.exitCode = await replayEach(
        entries,
        runtime,
        flags,
        (replayed) => printSingle(replayed, flags.runtime),
        () => {},
      );
    });
}
