// The HTML report as a string (docs/reports.md): what any journal's strings become, what an
// older journal without series still shows, every ledger category, and the size of a long run's
// report. The browser test (html-browser.test.ts) checks what the charts draw.

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readJournal } from "../../harness/cli/report-command.ts";
import type { Journal } from "../../harness/experiment/journal.ts";
import { CATEGORIES } from "../../harness/ledger/ledger.ts";
import { HEALTH_BAND_RGB } from "../../harness/report/html/chart.ts";
import { renderReport } from "../../harness/report/html/report.ts";
import { unhealthySpans } from "../../harness/report/html/time-charts.ts";
import { journalFixture, seriesFixture } from "./series-fixture.ts";

const HOSTILE = `<script>alert("x")</script><img src=x onerror=alert(1)>`;

/** A journal whose invariant summary, evidence and tenant carry the hostile string. */
const journalWith = (overrides: Partial<Journal>) =>
  journalFixture({ text: HOSTILE, ...overrides });

const faults = [{ name: HOSTILE, target: HOSTILE, fromMs: 10_000, toMs: 20_000 }];

describe("renderReport", () => {
  it("escapes every string from the journal: no markup of its own reaches the page", () => {
    const html = renderReport([
      journalWith({
        profile: HOSTILE,
        error: HOSTILE,
        series: seriesFixture({
          durationMs: 60_000,
          faults,
          tenants: [HOSTILE],
          services: [HOSTILE],
        }),
      }),
    ]);
    expect(html).not.toContain("<script");
    expect(html).not.toContain("<img");
    expect(html).toContain("&lt;script&gt;");
  });

  it("renders an older journal without series: its tables, and a note instead of charts", () => {
    const html = renderReport([journalWith({})]);
    expect(html).toContain("carries no time series");
    expect(html).not.toContain("<svg");
    for (const category of CATEGORIES) expect(html).toContain(`<td>${category}</td>`);
    expect(html).toContain("no-silent-loss");
  });

  it("draws one chart per journal and kind, side by side, when comparing", () => {
    const series = seriesFixture({ durationMs: 60_000, faults, tenants: ["t001"] });
    const html = renderReport([
      journalWith({ series }),
      journalWith({ profile: "hardened", series, durationMs: 30_000 }),
    ]);
    expect(html.match(/data-chart="flow"/g)).toHaveLength(2);
    // Shared axes: both flow charts end their x axis at the longer run's 60 s.
    const flows = html.split('data-chart="flow"').slice(1, 3);
    for (const flow of flows) expect(flow).toMatch(/>60<\/text>/);
  });

  it("shades the buckets with a service unhealthy, labelled, and draws rejected events when any", () => {
    const series = seriesFixture({ durationMs: 60_000, faults, tenants: ["t001"] });
    series.unhealthy = series.unhealthy.map((_, index) =>
      index >= 12 && index < 18 ? ["buffer"] : index === 30 ? ["pusher", "buffer"] : [],
    );
    series.events.rejected = series.events.rejected.map((_, index) => (index === 40 ? 7 : 0));
    const html = renderReport([journalWith({ series })]);
    const flow = html.slice(html.indexOf('data-chart="flow"'), html.indexOf('data-chart="buffer"'));
    expect(unhealthySpans(series)).toEqual([
      { fromMs: 12_000, toMs: 18_000, services: ["buffer"] },
      { fromMs: 30_000, toMs: 31_000, services: ["buffer", "pusher"] },
    ]);
    expect(flow).toContain(">unhealthy: buffer</text>");
    expect(flow).toContain(">unhealthy: buffer, pusher</text>");
    expect(
      flow.match(new RegExp(`fill="rgb\\(${HEALTH_BAND_RGB.join(",")}\\)"`, "g")),
    ).toHaveLength(2);
    // Rejected events are drawn, in the legend; indeterminate (none in this run) is not.
    expect(flow).toContain(">rejected</text>");
    expect(flow).not.toContain(">indeterminate</text>");
    // The health band is no series of the legend.
    expect(flow).not.toContain(">unhealthy</text>");
  });

  it("keeps a 10-minute run's report under 2 MB", () => {
    const long = seriesFixture({
      durationMs: 600_000,
      faults: [{ name: "sink-outage", target: "sink-0", fromMs: 60_000, toMs: 300_000 }],
      tenants: Array.from({ length: 20 }, (_, index) => `t${index}`),
      services: ["edge", "forwarder", "buffer", "pusher", "config"],
    });
    const html = renderReport([journalWith({ durationMs: 600_000, series: long })]);
    expect(Buffer.byteLength(html)).toBeLessThan(2 * 1024 * 1024);
  });
});

describe("readJournal", () => {
  let directory: string;
  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), "spillway-report-read-"));
  });
  afterAll(async () => {
    await rm(directory, { recursive: true, force: true });
  });

  it("names the path of a missing journal", async () => {
    const path = join(directory, "missing.json");
    await expect(readJournal(path)).rejects.toThrow(path);
  });

  it("names the path and the field of a file that is not a journal", async () => {
    const path = join(directory, "other.json");
    await writeFile(path, JSON.stringify({ hello: 1 }));
    await expect(readJournal(path)).rejects.toThrow(`journal ${path}: no "experiment"`);
  });
});
