// `spillway/vitest`: a regression corpus of schedules as vitest tests, one per schedule file, named
// after the file (docs/simulator.md, "The regression corpus"). In a test file:
//
//   import { replayCorpus } from "spillway/vitest";
//   replayCorpus("experiments/regressions");
//
// Each test replays its schedule (on the simulator unless told otherwise) and passes when it came
// out as the file says: its invariant violated, or every invariant held.

import { expect, it } from "vitest";
import type { RuntimeName } from "./experiment/run-on.ts";
import { judgeReplay, loadCorpusEntry, replaySchedule, scheduleFiles } from "./explore/corpus.ts";
import { replayCommandLine } from "./explore/schedule.ts";

export interface ReplayCorpusOptions {
  /** Where the schedules run: the simulator (the default, fast and deterministic) or processes. */
  runtime?: RuntimeName;
  /** Each test's timeout; a simulated replay takes a second or two, one on processes about 40 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS: Record<RuntimeName, number> = { sim: 60_000, process: 180_000 };

/**
 * Replays one schedule file and expects it to come out as the file says; each test replayCorpus
 * declares runs this. A file that is not a schedule, or not one its base experiment can run,
 * throws naming the file before anything runs.
 */
export async function replayScheduleFile(
  file: string,
  options: Pick<ReplayCorpusOptions, "runtime"> = {},
): Promise<void> {
  const runtime = options.runtime ?? "sim";
  const entry = await loadCorpusEntry(file);
  const judgement = judgeReplay(entry.schedule, await replaySchedule(entry, { runtime }));
  expect(
    judgement.outcome,
    `${file}: ${judgement.summary}; replay it with ${replayCommandLine(file, runtime)}`,
  ).toBe("as-expected");
}

/**
 * Declares one test per schedule file the paths name (files, or folders of `*.json` at any
 * depth); call it at the top level of a test file or inside a `describe`. A folder without
 * schedule files throws while the file is collected; a file that is not a schedule fails its test.
 */
export function replayCorpus(
  paths: string | readonly string[],
  options: ReplayCorpusOptions = {},
): void {
  const runtime = options.runtime ?? "sim";
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS[runtime];
  for (const file of scheduleFiles(typeof paths === "string" ? [paths] : paths)) {
    it(file, { timeout }, () => replayScheduleFile(file, { runtime }));
  }
}
