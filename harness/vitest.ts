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
import { judgeReplay, replaySchedule, scheduleFiles } from "./explore/corpus.ts";
import { readSchedule, replayCommandLine } from "./explore/schedule.ts";

export interface ReplayCorpusOptions {
  /** Where the schedules run: the simulator (the default, fast and deterministic) or processes. */
  runtime?: RuntimeName;
  /** Each test's timeout; a simulated replay takes a second or two, one on processes about 40 s. */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS: Record<RuntimeName, number> = { sim: 60_000, process: 180_000 };

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
    it(file, { timeout }, async () => {
      const schedule = await readSchedule(file);
      const judgement = judgeReplay(schedule, await replaySchedule(schedule, { runtime }));
      expect(
        judgement.outcome,
        `${file}: ${judgement.summary}; replay it with ${replayCommandLine(file, runtime)}`,
      ).toBe("as-expected");
    });
  }
}
