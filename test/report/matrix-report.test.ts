// The HTML report of `spillway run --matrix` (docs/reports.md): one bar series per figure, one
// category per subset, the table, and nothing from a journal or experiment as markup.

import { execa } from "execa";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROFILES } from "../../pipeline/core/flaws.ts";
import { MATRIX_FIGURES, renderMatrixReport } from "../../harness/report/html/matrix-report.ts";
import { journalFixture } from "./series-fixture.ts";

const ALL = PROFILES["legacy-2024"];
const HOSTILE = `<script>alert("x")</script>`;

/** The bars of series `index` in the chart's SVG (ECharts SSR tags each with its series). */
const bars = (html: string, index: number) =>
  html.match(
    new RegExp(
      `<path [^>]*fill="${MATRIX_FIGURES[index]!.color}" ecmeta_series_index="${index}"[^>]*ecmeta_ssr_type="chart"`,
      "g",
    ),
  ) ?? [];

describe("spillway run --matrix --report", () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), "spillway-matrix-report-"));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it("writes a chart with a bar series per figure and a category per subset, and the table", async () => {
    const report = path.join(directory, "matrix.html");
    const result = await execa(
      process.execPath,
      [
        path.resolve("harness/cli/main.ts"),
        "run",
        "nov14-2024",
        "--runtime",
        "sim",
        "--matrix",
        "none;all",
        "--report",
        report,
      ],
      { reject: false, timeout: 60_000 },
    );
    expect(result.stderr).not.toMatch(/Error/);
    expect(result.stdout).toContain(`report: ${report}`);
    const html = await readFile(report, "utf8");
    const chart = html.slice(html.indexOf('data-chart="matrix"'));
    MATRIX_FIGURES.forEach((figure, index) => {
      expect(chart).toContain(`>${figure.name}</text>`);
      // Every subset's run completed on the simulator: a bar each.
      expect(bars(chart, index)).toHaveLength(2);
    });
    expect(chart).toMatch(/>none \(hardened\)<\/text>/);
    expect(chart).toMatch(/>all flaws<\/text>/);
    expect(html).toMatch(/<td>all flaws<\/td><td>\d+\.\d%<\/td>/);
    expect(html).toContain("<td>none (hardened)</td><td>100.0%</td>");
  });

  it("escapes the experiment's name and the table's cells; a run not judged has no bars", () => {
    const completed = journalFixture({ text: HOSTILE });
    const aborted = { ...journalFixture({ text: HOSTILE }), status: "aborted" as const };
    const html = renderMatrixReport(
      HOSTILE,
      [
        { subset: [...ALL], journal: completed },
        { subset: [], journal: aborted },
      ],
      ALL,
    );
    expect(html).not.toContain("<script");
    expect(html).toContain("&lt;script&gt;");
    expect(html).toContain("aborted: the steady state did not hold");
    for (const index of MATRIX_FIGURES.keys()) expect(bars(html, index)).toHaveLength(1);
  });
});
