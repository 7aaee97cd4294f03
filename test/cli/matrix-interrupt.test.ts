// Ctrl-C during `spillway run --matrix` on the simulator: the run in progress ends interrupted, no
// further one starts, the table and the report of the runs so far (the interrupted one marked)
// are written, and the command exits 130, as an interrupted run without --matrix does.

import { execa } from "execa";
import { readFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { PROFILES } from "../../pipeline/core/flaws.ts";
import { matrixLabel, matrixSubsets } from "../../harness/report/matrix.ts";
import { useTempDir } from "../support/temp-dir.ts";

const CLI = path.resolve("harness/cli/main.ts");
const directory = useTempDir("spillway-matrix-interrupt-");

const ALL = PROFILES["legacy-2024"];
/** The rows of `--matrix` (leave-one-out), in the order they run. */
const LABELS = matrixSubsets("leave-one-out", ALL).map((subset) => matrixLabel(subset, ALL));

it("Ctrl-C in the second run prints and reports the first and the interrupted one, and exits 130", async () => {
  const report = path.join(directory, "matrix.html");
  const run = execa(
    process.execPath,
    [CLI, "run", "nov14-2024", "--runtime", "sim", "--matrix", "--report", report],
    { reject: false, timeout: 60_000 },
  );
  // The first progress line of the second run: the first has ended, the second is under way.
  let interrupted = false;
  run.stderr.on("data", (chunk: Buffer) => {
    if (interrupted || !chunk.toString().includes(`nov14-2024 2/${LABELS.length}]`)) return;
    interrupted = true;
    run.kill("SIGINT");
  });
  const result = await run;
  expect(interrupted, result.stderr).toBe(true);
  expect(result.exitCode, result.stderr).toBe(130);

  // A row per run that started, in order; the runs after the interrupted one never started.
  const table = result.stdout.split("\n");
  const rows = LABELS.flatMap((label) => table.filter((line) => line.startsWith(`${label}  `)));
  expect(rows.length).toBeGreaterThanOrEqual(2);
  expect(rows.length).toBeLessThan(LABELS.length);
  rows.forEach((row, index) => expect(row.startsWith(`${LABELS[index]}  `)).toBe(true));
  expect(rows.at(-1)).toMatch(/ {2}-\s+-\s+-\s+-\s+interrupted$/);
  for (const row of rows.slice(0, -1)) expect(row).toMatch(/^\S.*? {2}\d+\.\d%/);
  expect(result.stdout).toContain(`report: ${report}`);

  const html = readFileSync(report, "utf8");
  expect(html).toMatch(new RegExp(`<td>${LABELS[0]}</td><td>\\d+\\.\\d%</td>`));
  expect(html).toContain(`<td>${LABELS[rows.length - 1]}</td><td>-</td>`);
  expect(html).toContain("<td>interrupted</td>");
});
