// A regression corpus: schedule files kept in folders (experiments/regressions/), each saying what
// a replay must see (docs/simulator.md, "The regression corpus"): a flaw's schedule reproduces its
// violation, a fixed bug's schedule holds. `spillway replay <files or folders>…` and the vitest
// helper (harness/vitest.ts) both find, replay and judge them here.

import { readdirSync, statSync } from "node:fs";
import path from "node:path";
import { ExperimentError, type Experiment } from "../experiment/definition.ts";
import type { Journal } from "../experiment/journal.ts";
import { checkExperiment } from "../experiment/load.ts";
import { runOn, type RuntimeName } from "../experiment/run-on.ts";
import { seenStatuses, type SeenStatuses } from "./schedule-run.ts";
import type { Runtime } from "../runtime/runtime.ts";
import {
  baseExperiment,
  expectedOutcome,
  readSchedule,
  scheduleExperiment,
  type Schedule,
  type ScheduleExpectation,
} from "./schedule.ts";

/** Most schedule files one replay takes from its folders: a corpus is read whole before it runs. */
export const CORPUS_FILES_MAX = 10_000;

export interface CorpusEntry {
  file: string;
  schedule: Schedule;
  /** What replays it: its base experiment with its steps for the method. */
  experiment: Experiment;
}

function listJson(folder: string, found: string[]): void {
  const entries = readdirSync(folder, { withFileTypes: true }).sort((a, b) =>
    a.name.localeCompare(b.name),
  );
  for (const entry of entries) {
    const file = path.join(folder, entry.name);
    if (entry.isDirectory()) listJson(file, found);
    else if (entry.isFile() && entry.name.endsWith(".json")) found.push(file);
    if (found.length > CORPUS_FILES_MAX) {
      throw new ExperimentError(
        folder,
        [`holds more than ${CORPUS_FILES_MAX} JSON files; expected a corpus of schedules`],
        "schedule folder",
      );
    }
  }
}

/**
 * The schedule files the paths name: a file as given, a folder's `*.json` files at any depth in
 * name order, each once. Synchronous, so that a test file can declare one test per schedule. A path that
 * cannot be read, or a folder without a JSON file, is bad input (ExperimentError).
 */
export function scheduleFiles(paths: readonly string[]): string[] {
  const files: string[] = [];
  for (const given of paths) {
    let isFolder: boolean;
    try {
      isFolder = statSync(given).isDirectory();
    } catch (error) {
      throw new ExperimentError(
        given,
        [`cannot be read: ${(error as Error).message}`],
        "schedule file or folder",
      );
    }
    if (!isFolder) {
      files.push(given);
      continue;
    }
    const found: string[] = [];
    listJson(given, found);
    if (found.length === 0) {
      throw new ExperimentError(
        given,
        ["holds no schedule files (*.json); expected a folder of schedules"],
        "schedule folder",
      );
    }
    files.push(...found);
  }
  // A file named alone and again through its folder runs once.
  const seen = new Set<string>();
  return files.filter((file) => {
    const resolved = path.resolve(file);
    if (seen.has(resolved)) return false;
    seen.add(resolved);
    return true;
  });
}

/**
 * One schedule file read and validated before it runs (bad input names the file): its own
 * schema, then its steps on its base experiment, whose services and links each fault must name.
 */
export async function loadCorpusEntry(file: string): Promise<CorpusEntry> {
  const schedule = await readSchedule(file);
  const base = await baseExperiment(schedule.base);
  const experiment = scheduleExperiment(base, schedule);
  // A base that runs on a target is checked against it when that target loads.
  if (base.target === undefined) checkExperiment(experiment, file);
  return { file, schedule, experiment };
}

/** Every schedule the paths name, each loaded by loadCorpusEntry before any runs. */
export async function loadCorpus(paths: readonly string[]): Promise<CorpusEntry[]> {
  const entries: CorpusEntry[] = [];
  for (const file of scheduleFiles(paths)) entries.push(await loadCorpusEntry(file));
  return entries;
}

export interface ReplayOptions {
  runtime: RuntimeName | Runtime;
  /** Replaces the schedule's seed. */
  seed?: number;
  /** Aborting it interrupts the replay: faults heal, the journal says interrupted. */
  signal?: AbortSignal;
  toxiproxyUrl?: string;
}

/** Runs a loaded schedule's experiment with its profile, flaws and seed. */
export async function replaySchedule(
  { schedule, experiment }: CorpusEntry,
  options: ReplayOptions,
): Promise<Journal> {
  return runOn(options.runtime, experiment, {
    profile: schedule.profile,
    ...(schedule.flaws === undefined ? {} : { flaws: schedule.flaws }),
    seed: options.seed ?? schedule.seed,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
    ...(options.toxiproxyUrl === undefined ? {} : { toxiproxyUrl: options.toxiproxyUrl }),
  });
}

export type ReplayOutcome = "as-expected" | "not-as-expected" | "failed" | "interrupted";

export interface Judgement {
  expect: ScheduleExpectation;
  outcome: ReplayOutcome;
  seen: SeenStatuses;
  /** What was seen against what was expected: `reproduced: bounded-buffer violated`. */
  summary: string;
}

/** `no-silent-loss violated, recovery unknown`: what a replay saw that was not a hold. */
function notHeld(seen: SeenStatuses): string {
  return [
    ...seen.violated.map((name) => `${name} violated`),
    ...seen.unknown.map((name) => `${name} unknown`),
  ].join(", ");
}

/**
 * Judges a replay against its schedule: "reproduce" needs the recorded invariant violated,
 * "hold" needs every invariant held (an unknown is not a hold). A run that did not complete
 * is no judgement either way.
 */
export function judgeReplay(schedule: Schedule, journal: Journal): Judgement {
  const expect = expectedOutcome(schedule);
  const seen = seenStatuses(journal);
  const judged = (outcome: ReplayOutcome, summary: string): Judgement => ({
    expect,
    outcome,
    seen,
    summary,
  });
  if (journal.status === "interrupted") return judged("interrupted", "interrupted");
  if (journal.status !== "completed") {
    const error = journal.error?.split("\n")[0];
    return judged("failed", `the run ${journal.status}${error === undefined ? "" : `: ${error}`}`);
  }
  if (expect === "hold") {
    if (seen.violated.length === 0 && seen.unknown.length === 0) {
      const was =
        schedule.invariant === undefined ? "" : ` (${schedule.invariant} violated when found)`;
      return judged("as-expected", `held: every invariant held${was}`);
    }
    return judged("not-as-expected", `expected to hold, saw ${notHeld(seen)}`);
  }
  const invariant = schedule.invariant!;
  if (seen.violated.includes(invariant))
    return judged("as-expected", `reproduced: ${invariant} violated`);
  const status = journal.verdict?.invariants[invariant]?.status ?? "not checked";
  return judged("not-as-expected", `expected ${invariant} violated, saw it ${status}`);
}
