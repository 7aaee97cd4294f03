// `spillway run <experiment>`: runs an experiment on one or more profiles and prints the
// verdict; `--journal` and `--junit` write the evidence, `--markdown` and $GITHUB_STEP_SUMMARY
// the CI summary. Exit codes: 0 outcomes as expected,
// 1 not, 2 bad input, 3 the harness itself failed, 4 an abort condition tripped, 130 interrupted.

import { Command, InvalidArgumentError, Option } from "commander";
import { appendFile, writeFile } from "node:fs/promises";
import {
  FLAW_NAMES,
  isFlaw,
  parseFlawList,
  PROFILE_NAMES,
  PROFILES,
  type Flaw,
} from "../../pipeline/core/flaws.ts";
import type { Experiment } from "../experiment/definition.ts";
import type { Journal } from "../experiment/journal.ts";
import type { BeforeFault } from "../experiment/phases/method.ts";
import {
  formatPlan,
  referencePlan,
  referenceRun,
  targetPlan,
  type Plan,
} from "../experiment/plan.ts";
import { runOn, type RuntimeName } from "../experiment/run-on.ts";
import { type Progress } from "../experiment/runner.ts";
import { simulatorScale } from "../experiment/sim-run.ts";
import { reportBeforeExit } from "../runtime/cleanup.ts";
import { formatJUnit } from "../report/junit.ts";
import { formatMarkdown } from "../report/markdown.ts";
import { renderMatrixReport } from "../report/html/matrix-report.ts";
import { formatMatrix, matrixLabel, matrixSubsets, type MatrixRow } from "../report/matrix.ts";
import { formatSummary } from "../report/summary.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { loadExperimentAndTarget, defaultVariant, type LoadedTarget } from "../target/load.ts";
import { runOnTarget } from "../target/run.ts";
import { EXIT, UsageError } from "./exit.ts";
import { checkStepMode, openFacilitator, STEP_MODES, type StepMode } from "./facilitator.ts";
import { writeReport } from "./report-command.ts";
import {
  addRuntimeOptions,
  checkRuntimeFlags,
  resolveRuntime,
  type RuntimeFlags,
} from "./runtimes.ts";

interface RunFlags extends RuntimeFlags {
  profile?: string;
  flaws?: string;
  compare?: string;
  seed: number;
  journal?: string;
  junit?: string;
  markdown?: string;
  report?: string;
  toxiproxyUrl?: string;
  matrix?: string | true;
  target?: string;
  dryRun?: boolean;
  json?: boolean;
  step?: StepMode | true;
}

function nameList(value: string): string[] {
  const names = value
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name.length > 0);
  if (names.length === 0)
    throw new InvalidArgumentError(`"${value}" is not a list; expected names separated by commas`);
  return names;
}

/** Each of `names` must be one of `known` (profiles, or a target's variants). */
function checkNames(
  flag: string,
  names: readonly string[],
  known: readonly string[],
  what: string,
) {
  const unknown = names.find((name) => !known.includes(name));
  if (unknown !== undefined)
    throw new UsageError(
      `${flag}: "${unknown}" is not ${what}; expected ${known.length === 0 ? "nothing (there is none)" : `one of ${known.join(", ")}`}`,
    );
}

export function seedNumber(value: string): number {
  const seed = Number(value);
  if (!Number.isSafeInteger(seed) || seed < 0)
    throw new InvalidArgumentError(`"${value}" is not a seed; expected a non-negative integer`);
  return seed;
}

export function flawList(value: string | undefined): Flaw[] | undefined {
  if (value === undefined) return undefined;
  const flaws = parseFlawList(value);
  const unknown = flaws.find((flaw) => !isFlaw(flaw));
  if (unknown !== undefined)
    throw new UsageError(
      `--flaws: "${unknown}" is not a flaw; expected any of ${FLAW_NAMES.join(", ")}`,
    );
  return flaws as Flaw[];
}

function progressPrinter(label: string): (progress: Progress) => void {
  const tty = process.stderr.isTTY === true;
  let lastLine = 0;
  return (progress) => {
    const line = `[${label}] ${progress.phase.padEnd(12)} ${(progress.elapsedMs / 1000).toFixed(0).padStart(4)} s  ${Math.round(progress.eventsPerSecond).toLocaleString("en-US").padStart(8)} events/s  buffer ${(100 * progress.bufferFill).toFixed(0).padStart(4)}% of bound`;
    if (tty) process.stderr.write(`\r${line}\u001b[K`);
    else if (progress.elapsedMs - lastLine >= 5_000) {
      lastLine = progress.elapsedMs;
      process.stderr.write(line + "\n");
    }
  };
}

function journalPath(base: string, profile: string, compared: boolean): string {
  if (!compared) return base;
  return base.endsWith(".json")
    ? `${base.slice(0, -".json".length)}.${profile}.json`
    : `${base}.${profile}`;
}

/**
 * Runs each subset of `--matrix` in turn, then prints the table and writes `--report`; returns
 * the exit code. On SIGINT/SIGTERM, as in runEach, the run in progress ends interrupted, no
 * further one starts, and the table and report of the runs so far (the interrupted one says
 * so) are written before the process exits.
 */
function runMatrix(
  experiment: Experiment,
  subsets: Flaw[][],
  seed: number,
  runtime: RuntimeName | Runtime,
  reportPath: string | undefined,
  beforeFault: BeforeFault | undefined,
): Promise<number> {
  return reportBeforeExit("spillway run --matrix", async (signal) => {
    const rows: MatrixRow[] = [];
    for (const [index, subset] of subsets.entries()) {
      if (stopsRuns(signal, rows.at(-1)?.journal)) break;
      const journal = await runOn(runtime, experiment, {
        profile: "hardened",
        flaws: subset,
        seed,
        onProgress: progressPrinter(`${experiment.name} ${index + 1}/${subsets.length}`),
        signal,
        ...(beforeFault === undefined ? {} : { beforeFault }),
      });
      if (process.stderr.isTTY === true) process.stderr.write("\r\u001b[K");
      rows.push({ subset, journal });
    }
    process.stdout.write(
      `${experiment.name}: counterfactuals over the flaws of legacy-2024\n${formatMatrix(rows, PROFILES["legacy-2024"])}\n`,
    );
    if (reportPath !== undefined) {
      await writeFile(
        reportPath,
        renderMatrixReport(experiment.name, rows, PROFILES["legacy-2024"], {
          generatedAt: new Date(),
        }),
      );
      process.stdout.write(`report: ${reportPath}\n`);
    }
    if (stopsRuns(signal, rows.at(-1)?.journal)) return EXIT.interrupted;
    return endCode(rows.map((row) => row.journal)) ?? EXIT.asExpected;
  });
}

/** Ctrl-C, or a run that ended interrupted: no further run starts, and the command exits 130. */
function stopsRuns(signal: AbortSignal, last: Journal | undefined): boolean {
  return signal.aborted || last?.status === "interrupted";
}

/**
 * The exit code of runs that did not all end: interrupted, then a harness failure, then an
 * abort condition tripped in any of them (each run aborts on its own); null when they all ended.
 */
function endCode(journals: readonly Journal[]): number | null {
  if (journals.some((journal) => journal.status === "interrupted")) return EXIT.interrupted;
  if (journals.some((journal) => journal.status === "failed")) return EXIT.harnessFailed;
  if (journals.some((journal) => journal.abort !== undefined)) return EXIT.aborted;
  return null;
}

/**
 * The Markdown summary to --markdown (replacing the file) and, on GitHub Actions, appended to
 * the job's step summary: the file $GITHUB_STEP_SUMMARY names collects every step's Markdown.
 */
async function writeMarkdown(journals: readonly Journal[], flags: RunFlags): Promise<void> {
  const stepSummary = process.env["GITHUB_STEP_SUMMARY"];
  if (flags.markdown === undefined && !stepSummary) return;
  const markdown = formatMarkdown(
    journals,
    flags.report === undefined ? {} : { reportPath: flags.report },
  );
  if (flags.markdown !== undefined) await writeFile(flags.markdown, markdown);
  // A blank line first, so that a table or heading never runs on from what an earlier step wrote.
  if (stepSummary) await appendFile(stepSummary, "\n" + markdown);
}

/**
 * Runs once per profile (or variant), writing each journal as it comes, then the JUnit file and
 * the summary; returns the exit code. On SIGINT/SIGTERM the run in progress heals, rolls back
 * and journals, and this still reports before the process exits.
 */
async function runEach(
  experimentName: string,
  names: readonly string[],
  flags: RunFlags,
  runOne: (
    name: string,
    onProgress: (progress: Progress) => void,
    signal: AbortSignal,
  ) => Promise<Journal>,
): Promise<number> {
  return reportBeforeExit("spillway run", async (signal) => {
    const journals: Journal[] = [];
    const interrupted = () => stopsRuns(signal, journals.at(-1));
    for (const name of names) {
      if (interrupted()) break;
      const journal = await runOne(name, progressPrinter(`${experimentName} ${name}`), signal);
      if (process.stderr.isTTY === true) process.stderr.write("\r\u001b[K");
      journals.push(journal);
      if (flags.journal !== undefined) {
        await writeFile(
          journalPath(flags.journal, name, names.length > 1),
          JSON.stringify(journal, null, 2) + "\n",
        );
      }
    }
    if (flags.junit !== undefined) await writeFile(flags.junit, formatJUnit(journals));
    if (journals.length > 0) {
      process.stdout.write(formatSummary(journals) + "\n");
      if (flags.report !== undefined) {
        await writeReport(flags.report, journals);
        process.stdout.write(`report: ${flags.report}\n`);
      }
      await writeMarkdown(journals, flags);
    }
    if (interrupted()) return EXIT.interrupted;
    const asExpected = journals.every((journal) => journal.asExpected);
    return endCode(journals) ?? (asExpected ? EXIT.asExpected : EXIT.notAsExpected);
  });
}

/** The runs on a target: each variant of `--compare`, or the one named, or the default one. */
function targetRunNames(
  target: LoadedTarget,
  flags: RunFlags & { compare?: string[] },
): { names: string[]; variants: boolean } {
  const variants = Object.keys(target.spec.variants);
  if (flags.flaws !== undefined || flags.matrix !== undefined)
    throw new UsageError(
      `--flaws and --matrix are about the reference pipeline's flaws; target ${target.spec.name} has variants instead: ${variants.join(", ") || "(none)"}`,
    );
  if (flags.runtime !== undefined && flags.runtime !== "process")
    throw new UsageError(
      `--runtime ${flags.runtime}: a target runs its own software as processes; expected no --runtime (or process)`,
    );
  const chosen = flags.compare ?? (flags.profile === undefined ? undefined : [flags.profile]);
  if (chosen !== undefined)
    checkNames(
      flags.compare ? "--compare" : "--profile",
      chosen,
      variants,
      `a variant of target ${target.spec.name}`,
    );
  const fallback = defaultVariant(target);
  return {
    names: chosen ?? [fallback ?? target.spec.name],
    variants: fallback !== undefined,
  };
}

/** `spillway run` on a target: each of `names`, a variant or (without variants) the target. */
function runTargetCommand(
  experiment: Experiment,
  target: LoadedTarget,
  runs: { names: string[]; variants: boolean },
  flags: RunFlags,
  beforeFault: BeforeFault | undefined,
): Promise<number> {
  return runEach(experiment.name, runs.names, flags, (name, onProgress, signal) =>
    runOnTarget(experiment, target, {
      ...(runs.variants ? { variant: name } : {}),
      seed: flags.seed,
      ...(flags.toxiproxyUrl === undefined ? {} : { toxiproxyUrl: flags.toxiproxyUrl }),
      onProgress,
      signal,
      ...(beforeFault === undefined ? {} : { beforeFault }),
    }),
  );
}

const EXIT_CODES_HELP = `
Exit codes: 0 outcomes as expected, 1 not, 2 bad input, 3 the harness itself failed,
4 an abort condition (the experiment's abort:) tripped in a run, 130 interrupted.`;

/** What runs on the reference pipeline: `--matrix`'s subsets, or profiles with their flaws. */
type ReferenceRuns =
  { matrix: Flaw[][] } | { matrix: null; profiles: string[]; flaws: Flaw[] | undefined };

function referenceRuns(
  experiment: Experiment,
  flags: RunFlags & { compare?: string[] },
): ReferenceRuns {
  const flaws = flawList(flags.flaws);
  if (flags.profile !== undefined && !(PROFILE_NAMES as string[]).includes(flags.profile)) {
    throw new UsageError(
      `--profile: "${flags.profile}" is not a profile; expected one of ${PROFILE_NAMES.join(", ")}`,
    );
  }
  if (flags.matrix !== undefined) {
    // A matrix's runs are all of `hardened` with flaws added: one journal, JUnit suite or summary
    // per run would not tell them apart. Its results are the table and --report.
    for (const [flag, given] of [
      ["--journal", flags.journal],
      ["--junit", flags.junit],
      ["--markdown", flags.markdown],
    ] as const) {
      if (given !== undefined) {
        throw new UsageError(
          `${flag} "${given}": does not apply to --matrix, whose results are the printed table and --report`,
        );
      }
    }
    try {
      return {
        matrix: matrixSubsets(
          flags.matrix === true ? "leave-one-out" : flags.matrix,
          PROFILES["legacy-2024"],
        ),
      };
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  if (flags.compare !== undefined)
    checkNames("--compare", flags.compare, PROFILE_NAMES, "a profile");
  return { matrix: null, profiles: flags.compare ?? [flags.profile ?? experiment.profile], flaws };
}

/** The plan of the reference pipeline's runs, on the runtime the flags name. */
function referenceRunsPlan(experiment: Experiment, runs: ReferenceRuns, flags: RunFlags): Plan {
  checkRuntimeFlags(flags);
  // The simulator runs the experiment at its simulator scale (sim-run.ts).
  const scaled = flags.runtime === "sim" ? simulatorScale(experiment) : experiment;
  const legacy = PROFILES["legacy-2024"];
  const planned =
    runs.matrix !== null
      ? runs.matrix.map((subset) =>
          referenceRun(scaled, matrixLabel(subset, legacy), "hardened", subset),
        )
      : runs.profiles.map((profile) => referenceRun(scaled, profile, profile, runs.flaws));
  return referencePlan(scaled, planned, {
    runtime: flags.runtime as "process" | "sim" | "container",
    ...(flags.image === undefined ? {} : { image: flags.image }),
    ...(flags.toxiproxyUrl === undefined ? {} : { toxiproxyUrl: flags.toxiproxyUrl }),
  });
}

function printPlan(plan: Plan, flags: RunFlags): void {
  process.stdout.write(
    flags.json === true ? JSON.stringify(plan, null, 2) + "\n" : formatPlan(plan) + "\n",
  );
}

/** `--step`'s mode; one that could never go on (Enter without a terminal) is bad input. */
function stepMode(flags: RunFlags): StepMode | undefined {
  if (flags.step === undefined || flags.dryRun === true) return undefined;
  const mode = flags.step === true ? "enter" : flags.step;
  checkStepMode(mode);
  return mode;
}

/** Runs `run` with the facilitator's gate before each fault when `--step` asks for it. */
async function withFacilitator(
  mode: StepMode | undefined,
  warmupMs: number,
  run: (beforeFault: BeforeFault | undefined) => Promise<number>,
): Promise<number> {
  if (mode === undefined) return run(undefined);
  const facilitator = openFacilitator(mode, warmupMs);
  try {
    return await run(facilitator.beforeFault);
  } finally {
    facilitator.close();
  }
}

export function runCommand(): Command {
  // --runtime and the options of each runtime are the business of ./runtimes.ts.
  return addRuntimeOptions(new Command("run"))
    .description(
      "Run an experiment (a shipped name, or a .ts/.json/.yaml file) and check its invariants.",
    )
    .argument("<experiment>", "a name from `spillway list`, or a path to an experiment file")
    .option(
      "--profile <profile>",
      `profile to run (${PROFILE_NAMES.join(", ")}), or on a target its variant; default: the experiment's`,
    )
    .option(
      "--flaws <list>",
      "comma-separated flaws replacing the profile's; the experiment's expectations then do not apply (every invariant is expected to hold)",
    )
    .option(
      "--compare <profiles>",
      "run each profile (on a target: each variant) in turn and print them side by side, e.g. legacy-2024,hardened",
      nameList,
    )
    .option(
      "--target <file>",
      "run on this target (a YAML/JSON/TS target file, docs/targets.md) instead of the experiment's own target or the reference pipeline",
    )
    .option("--seed <n>", "seed of the workload's random draws", seedNumber, 1)
    .option(
      "--journal <file>",
      "write the journal (JSON); with --compare one file per profile: <file>.<profile>.json",
    )
    .option("--junit <file>", "write JUnit XML: one test case per invariant per profile")
    .option(
      "--report <file>",
      "write the HTML report (docs/reports.md); with --compare the profiles side by side, with --matrix a chart of the counterfactuals",
    )
    .option(
      "--markdown <file>",
      "write the summary as Markdown (the verdict table, the ledger, the report's path); when GITHUB_STEP_SUMMARY names a file, run also appends it there",
    )
    .option("--toxiproxy-url <url>", "use this Toxiproxy instead of the embedded fault proxy")
    .option(
      "--dry-run",
      "validate the experiment and target and print the plan (services, links, each fault with its time, target and heal, rollbacks, invariants, expectations); starts nothing; exit 0 valid, 2 not",
    )
    .option("--json", "with --dry-run: print the plan as JSON")
    .addOption(
      new Option(
        "--step [how]",
        'game day: before each fault print what comes next and wait for a go; "enter" (default: Enter on a terminal, or SIGUSR1) or "signal" (SIGUSR1 only: kill -USR1 <pid> from another terminal or a script); waiting pauses the method\'s schedule; Ctrl-C still heals and rolls back',
      ).choices(STEP_MODES),
    )
    .option(
      "--matrix [subsets]",
      'counterfactuals: run subsets of the legacy-2024 flaws and tabulate delivered %, silent loss % and buffer high water ÷ bound; "leave-one-out" (default: all, all but each one, none), "all" (every subset), or subsets like "a,b;c;none" ("all": every flaw of legacy-2024); its results are the table and --report (--journal, --junit and --markdown are refused)',
    )
    .addHelpText("after", EXIT_CODES_HELP)
    .action(async (reference: string, flags: RunFlags & { compare?: string[] }) => {
      if (flags.json === true && flags.dryRun !== true)
        throw new UsageError("--json: applies to --dry-run (a run's results go to --journal)");
      const { experiment, target } = await loadExperimentAndTarget(reference, flags.target);
      const step = stepMode(flags);
      if (target !== null) {
        const runs = targetRunNames(target, flags);
        if (flags.dryRun === true)
          return printPlan(targetPlan(experiment, target, runs.names, flags.toxiproxyUrl), flags);
        process.exitCode = await withFacilitator(step, experiment.warmup, (beforeFault) =>
          runTargetCommand(experiment, target, runs, flags, beforeFault),
        );
        return;
      }
      const runs = referenceRuns(experiment, flags);
      if (flags.dryRun === true)
        return printPlan(referenceRunsPlan(experiment, runs, flags), flags);
      const runtime = await resolveRuntime(flags);
      process.exitCode = await withFacilitator(step, experiment.warmup, (beforeFault) =>
        runs.matrix !== null
          ? runMatrix(experiment, runs.matrix, flags.seed, runtime, flags.report, beforeFault)
          : runEach(experiment.name, runs.profiles, flags, (profile, onProgress, signal) =>
              runOn(runtime, experiment, {
                profile,
                flaws: runs.flaws,
                seed: flags.seed,
                toxiproxyUrl: flags.toxiproxyUrl,
                onProgress,
                signal,
                ...(beforeFault === undefined ? {} : { beforeFault }),
              }),
            ),
      );
    });
}
