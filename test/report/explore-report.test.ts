// The HTML report of `spillway explore` (docs/reports.md): the minimal schedule as a timeline
// (a bar per lasting fault, a diamond per instant one) beside the violated invariant's summary
// and evidence; on the simulator, the search that finds an empty config's silent loss.

import { execa } from "execa";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ExploreResult } from "../../harness/explore/explore.ts";
import type { Schedule } from "../../harness/explore/schedule.ts";
import { renderExploreReport } from "../../harness/report/html/explore-report.ts";

const HOSTILE = `<script>alert("x")</script>`;

/** The chart's drawn elements of series `index` (ECharts SSR tags each with its series). */
const drawn = (html: string, index: number) =>
  html.match(
    new RegExp(
      `<path [^>]*fill="#d62728"[^>]*ecmeta_series_index="${index}"[^>]*ecmeta_ssr_type="chart"`,
      "g",
    ),
  ) ?? [];

const schedule = {
  spillway: "schedule",
  version: 1,
  base: "explore",
  profile: "legacy-2024",
  seed: 1,
  invariant: "bounded-buffer",
  steps: [
    { at: 2_000, fault: { kind: "config.add-job", tenant: "t000", dataset: HOSTILE } },
    { at: 5_000, for: 8_000, fault: { kind: "network.partition", target: "buffer" } },
    { at: 9_000, fault: { kind: "config.revert" } },
  ],
} as unknown as Schedule;

const found: ExploreResult = {
  found: true,
  runs: 7,
  heldRuns: 6,
  unknownRuns: 0,
  unknownByInvariant: {},
  firstUnknown: null,
  shrinkRuns: 12,
  seed: 1,
  profile: "legacy-2024",
  flaws: null,
  families: ["config"],
  invariantSought: "bounded-buffer",
  runsMax: 500,
  stepsMax: 6,
  shard: { index: 1, count: 1 },
  violationIndex: 6,
  invariant: "bounded-buffer",
  summary: `73 buffers over the bound of 64 at ${HOSTILE}`,
  evidence: { highWaterBuffers: { value: 73, bound: 64 }, note: HOSTILE },
  error: null,
  schedule,
  interrupted: false,
  elapsedMs: 4_200,
};

describe("renderExploreReport", () => {
  it("draws each fault at its offset: a bar for its duration, a diamond when instant", () => {
    const html = renderExploreReport(found, {
      durationMs: 26_000,
      file: "found.json",
      focus: "profile legacy-2024",
    });
    const chart = html.slice(html.indexOf('data-chart="schedule"'));
    // Series 1: the visible bars (the offset under them is transparent); series 2: diamonds.
    expect(drawn(chart, 1)).toHaveLength(1);
    expect(drawn(chart, 2)).toHaveLength(2);
    for (const label of ["1. config.add-job", "2. network.partition", "3. config.revert"])
      expect(chart).toContain(`>${label}</text>`);
    expect(chart).toContain(">8 s</text>");
    expect(html).toContain("<strong>bounded-buffer</strong>: 73 buffers over the bound of 64");
    expect(html).toContain("&quot;highWaterBuffers&quot;");
    expect(html).toContain("spillway replay found.json --runtime sim");
    expect(html).not.toContain("<script");
    expect(html).toContain("dataset=&lt;script&gt;");
  });
});

describe("spillway explore --report", () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), "spillway-explore-report-"));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it("writes the shrunk schedule beside the violated invariant's summary and evidence", async () => {
    const report = path.join(directory, "explore.html");
    const result = await execa(
      process.execPath,
      [
        path.resolve("harness/cli/main.ts"),
        "explore",
        "--flaws",
        "forwarder.appliesEmptyConfig",
        "--faults",
        "config",
        "--invariant",
        "no-silent-loss",
        "--runs",
        "20",
        "--out",
        path.join(directory, "found.json"),
        "--report",
        report,
      ],
      { reject: false, timeout: 60_000 },
    );
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stdout).toContain(`report: ${report}`);
    const html = await readFile(report, "utf8");
    const chart = html.slice(html.indexOf('data-chart="schedule"'), html.indexOf("</figure>"));
    const steps = [...result.stdout.matchAll(/^ {2}\+ *[\d.]+ s {2}(\S+)/gm)].map(
      (match) => match[1]!,
    );
    expect(steps.length).toBeGreaterThan(0);
    steps.forEach((kind, index) => expect(chart).toContain(`>${index + 1}. ${kind}</text>`));
    expect(html).toMatch(/<strong>no-silent-loss<\/strong>: [\d,]+ of [\d,]+ expected events/);
    expect(html).toContain("&quot;lostShare&quot;");
  });
});
