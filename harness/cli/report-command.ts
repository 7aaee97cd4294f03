// `spillway report <journal.json>… [-o report.html]`: one self-contained HTML report of the
// journals, side by side on the same axes (docs/reports.md). Exit 2 names the journal that is
// missing or not a journal.

import { Command } from "commander";
import { readFile, writeFile } from "node:fs/promises";
import type { Journal } from "../experiment/journal.ts";
import { renderReport, REPORT_JOURNALS_MAX } from "../report/html/report.ts";
import { UsageError } from "./exit.ts";

/** A journal's size a report reads at most: a 10-minute run's is a few MB. */
const JOURNAL_BYTES_MAX = 256 * 1024 * 1024;

export async function readJournal(path: string): Promise<Journal> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new UsageError(`journal ${path}: cannot read it (${(error as Error).message})`);
  }
  if (text.length > JOURNAL_BYTES_MAX)
    throw new UsageError(`journal ${path}: ${text.length} bytes, over ${JOURNAL_BYTES_MAX}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`journal ${path}: not JSON (${(error as Error).message})`);
  }
  const journal = value as Partial<Journal> | null;
  const missing = ["experiment", "profile", "steps", "durationMs", "outcomes"].find(
    (field) => journal === null || typeof journal !== "object" || !(field in journal),
  );
  if (missing !== undefined)
    throw new UsageError(
      `journal ${path}: no "${missing}"; expected a journal from spillway run --journal`,
    );
  return value as Journal;
}

/** Writes the report of `journals` to `path`. */
export async function writeReport(path: string, journals: Journal[]): Promise<void> {
  await writeFile(path, renderReport(journals, { generatedAt: new Date() }));
}

export function reportCommand(): Command {
  return new Command("report")
    .description("Write one self-contained HTML report of one or more journals (side by side).")
    .argument(
      "<journals...>",
      `journal files (JSON) written by spillway run --journal, at most ${REPORT_JOURNALS_MAX}`,
    )
    .option("-o, --output <file>", "where to write the report", "report.html")
    .action(async (paths: string[], flags: { output: string }) => {
      if (paths.length > REPORT_JOURNALS_MAX)
        throw new UsageError(
          `${paths.length} journals given; a report takes at most ${REPORT_JOURNALS_MAX}`,
        );
      const journals: Journal[] = [];
      for (const path of paths) journals.push(await readJournal(path));
      await writeReport(flags.output, journals);
      process.stdout.write(`report: ${flags.output}\n`);
    });
}
