// The HTML report in a real browser (docs/reports.md): Debian's Chromium opens the report of a
// nov14-2024 run on legacy-2024 (simulator, seed 1) from disk, and the test reads the drawn
// SVG: series counts, fault bands where the x axis puts the faults' times, the buffer crossing
// its bound inside a fault window, loss beginning with the invalid config; the page asks for
// nothing from any host and logs no error. A screenshot is kept under the OS temp dir.

import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadExperiment } from "../../harness/experiment/load.ts";
import type { Journal } from "../../harness/experiment/journal.ts";
import { runOn } from "../../harness/experiment/run-on.ts";
import type { RunSeries } from "../../harness/experiment/series.ts";
import { FAULT_BAND_RGB, LEGEND_FONT_PX, SERIES_COLORS } from "../../harness/report/html/chart.ts";
import { renderReport } from "../../harness/report/html/report.ts";

const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
];
const present = existsSync(CHROMIUM);
if (!present && process.env.CI === undefined)
  console.warn(`skipping the browser tests: no ${CHROMIUM} (Debian's chromium package)`);

/** What a chart's SVG shows, read in the page. */
interface ChartGeometry {
  /** Colours drawn with data: lines (paths of more than two points) and bars (chart elements). */
  drawnColors: string[];
  /** The legend's texts (the only ones in its font size), left to right. */
  legend: string[];
  /** x axis labels (numbers) with the x of their centre, in SVG units. */
  xTicks: Array<{ value: number; x: number }>;
  bands: Array<{ left: number; right: number }>;
  /** Every path by its stroke: the points of its `d`. */
  paths: Array<{ stroke: string; dashed: boolean; points: Array<[number, number]> }>;
}

async function chartGeometry(page: Page, kind: string): Promise<ChartGeometry> {
  const selector = `figure[data-chart="${kind}"][data-profile="legacy-2024"] svg`;
  const bandFill = `rgb(${FAULT_BAND_RGB.join(",")})`;
  return page.$eval(
    selector,
    (svg, { bandFill, legendFontPx }) => {
      const numbers = (text: string) => [...text.matchAll(/-?\d+(?:\.\d+)?/g)].map(Number);
      const chart = [...svg.querySelectorAll('[ecmeta_ssr_type="chart"]')];
      // A text's box is in its own coordinates: add the translate ECharts places it with.
      const texts = [...svg.querySelectorAll("text")].map((text) => {
        const box = text.getBBox();
        const [dx = 0, dy = 0] = numbers(
          /translate\(([^)]*)\)/.exec(text.getAttribute("transform") ?? "")?.[1] ?? "",
        );
        return {
          text: text.textContent ?? "",
          x: dx + box.x + box.width / 2,
          y: dy + box.y,
          fontSize: text.style.fontSize,
        };
      });
      const numeric = texts.filter((text) => /^-?\d+(\.\d+)?$/.test(text.text.trim()));
      const lowest = Math.max(...numeric.map((text) => Math.round(text.y)));
      return {
        drawnColors: [
          ...new Set([
            ...[...svg.querySelectorAll("path[stroke]")]
              .filter((path) => numbers(path.getAttribute("d") ?? "").length > 4)
              .map((path) => path.getAttribute("stroke")),
            ...chart.map((element) => element.getAttribute("fill")),
          ]),
        ].filter((color): color is string => color !== null),
        legend: texts
          .filter((text) => text.fontSize === `${legendFontPx}px`)
          .map((text) => text.text),
        xTicks: numeric
          .filter((text) => Math.round(text.y) === lowest)
          .map((text) => ({ value: Number(text.text), x: text.x })),
        bands: [...svg.querySelectorAll(`polygon[fill="${bandFill}"]`)].map((polygon) => {
          const box = (polygon as typeof svg).getBBox();
          return { left: box.x, right: box.x + box.width };
        }),
        paths: [...svg.querySelectorAll("path[stroke]")].map((path) => {
          const values = numbers(path.getAttribute("d") ?? "");
          const points: Array<[number, number]> = [];
          for (let index = 0; index + 1 < values.length; index += 2)
            points.push([values[index]!, values[index + 1]!]);
          return {
            stroke: path.getAttribute("stroke") ?? "",
            dashed: path.hasAttribute("stroke-dasharray"),
            points,
          };
        }),
      };
    },
    { bandFill, legendFontPx: LEGEND_FONT_PX },
  );
}

/** The SVG x of `seconds` on the chart's x axis, from its first and last labels. */
function xOf(geometry: ChartGeometry, seconds: number): number {
  const first = geometry.xTicks[0]!;
  const last = geometry.xTicks.at(-1)!;
  return first.x + ((seconds - first.value) * (last.x - first.x)) / (last.value - first.value);
}

/** A vertical mark's x: a two-point path of that colour whose ends share their x. */
function verticalMarks(geometry: ChartGeometry, stroke: string): number[] {
  return geometry.paths
    .filter((path) => path.stroke === stroke && path.points.length === 2)
    .filter((path) => path.points[0]![0] === path.points[1]![0])
    .map((path) => path.points[0]![0]);
}

describe.skipIf(!present && process.env.CI === undefined)("the HTML report in Chromium", () => {
  let browser: Browser | undefined;
  let page: Page;
  let directory: string;
  let journal: Journal;
  let series: RunSeries;
  const requests: string[] = [];
  const errors: string[] = [];
  let reportUrl: string;

  beforeAll(async () => {
    if (!present)
      throw new Error(`CI is set and ${CHROMIUM} is missing: install Debian's chromium`);
    journal = await runOn("sim", await loadExperiment("nov14-2024"), {
      profile: "legacy-2024",
      seed: 1,
    });
    if (journal.series === undefined) throw new Error("the run's journal carries no series");
    series = journal.series;
    directory = await mkdtemp(join(tmpdir(), "spillway-report-"));
    const file = join(directory, "report.html");
    await writeFile(file, renderReport([journal]));
    reportUrl = pathToFileURL(file).href;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    page.on("request", (request) => requests.push(request.url()));
    page.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text());
    });
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(reportUrl, { waitUntil: "load" });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    if (directory !== undefined) await rm(directory, { recursive: true, force: true });
  });

  it("asks for the file itself and nothing else, and logs no error", () => {
    expect(requests).toEqual([reportUrl]);
    expect(errors).toEqual([]);
  });

  it("draws the event flow as SVG: produced, acknowledged, delivered, declared, lost", async () => {
    const flow = await chartGeometry(page, "flow");
    expect(flow.legend).toEqual(["produced", "acknowledged", "delivered", "declared", "lost"]);
    const colors = ["produced", "acknowledged", "delivered", "declared", "lost"] as const;
    expect(flow.drawnColors).toEqual(
      expect.arrayContaining(colors.map((name) => SERIES_COLORS[name])),
    );
  });

  it("draws memory per service and loss per tenant, one series each", async () => {
    const memory = await chartGeometry(page, "memory");
    expect(memory.legend).toEqual(series.memory.map((service) => service.service));
    const tenants = await chartGeometry(page, "tenant-loss");
    expect(tenants.legend).toEqual(Object.keys(series.lostByTenant));
  });

  it("shades each fault window where the x axis puts its start and heal", async () => {
    const flow = await chartGeometry(page, "flow");
    expect(flow.xTicks.length).toBeGreaterThanOrEqual(2);
    expect(flow.bands).toHaveLength(series.faults.length);
    series.faults.forEach((fault, index) => {
      const band = flow.bands[index]!;
      expect(band.left).toBeCloseTo(xOf(flow, fault.fromMs / 1_000), 0);
      expect(band.right).toBeCloseTo(xOf(flow, (fault.toMs ?? journal.durationMs) / 1_000), 0);
    });
  });

  it("shows the buffer crossing its bound inside a fault window", async () => {
    const buffer = await chartGeometry(page, "buffer");
    const bound = buffer.paths.find((path) => path.stroke === SERIES_COLORS.bound && path.dashed);
    const held = buffer.paths.find(
      (path) => path.stroke === SERIES_COLORS.acknowledged && path.points.length > 2,
    );
    expect(bound).toBeDefined();
    expect(held).toBeDefined();
    const boundY = bound!.points[0]![1];
    // SVG y grows downwards: above the bound is a smaller y.
    const crossing = held!.points.find(([, y]) => y < boundY);
    expect(crossing).toBeDefined();
    const bucketPx = xOf(buffer, series.bucketMs / 1_000) - xOf(buffer, 0);
    expect(
      buffer.bands.some(
        (band) => crossing![0] >= band.left - bucketPx && crossing![0] <= band.right + bucketPx,
      ),
    ).toBe(true);
  });

  it("marks loss beginning with the invalid config", async () => {
    const flow = await chartGeometry(page, "flow");
    const [lossX] = verticalMarks(flow, SERIES_COLORS.lost);
    const [invalidX] = verticalMarks(flow, SERIES_COLORS.declared);
    expect(lossX).toBeDefined();
    expect(invalidX).toBeDefined();
    const bucketPx = xOf(flow, series.bucketMs / 1_000) - xOf(flow, 0);
    // Loss is charted by production bucket: it may begin in the bucket the config came in.
    expect(lossX!).toBeGreaterThanOrEqual(invalidX! - bucketPx);
    expect(lossX!).toBeLessThanOrEqual(invalidX! + 5 * bucketPx);
  });

  it("fits a narrow window without scrolling sideways, and prints with its charts", async () => {
    const narrow = await browser!.newPage({ viewport: { width: 400, height: 800 } });
    try {
      await narrow.goto(reportUrl, { waitUntil: "load" });
      // Evaluated in the page, as text: the test's own types know no DOM.
      const overflowPx = Number(
        await narrow.evaluate(
          "document.documentElement.scrollWidth - document.documentElement.clientWidth",
        ),
      );
      expect(overflowPx).toBeLessThanOrEqual(1);
      await narrow.emulateMedia({ media: "print" });
      const chartWidthsPx = (await narrow.evaluate(
        "[...document.querySelectorAll('svg')].map((svg) => svg.getBoundingClientRect().width)",
      )) as number[];
      expect(chartWidthsPx.length).toBeGreaterThan(0);
      expect(Math.min(...chartWidthsPx)).toBeGreaterThan(100);
      const pdf = await narrow.pdf({ format: "A4" });
      expect(pdf.subarray(0, 5).toString()).toBe("%PDF-");
    } finally {
      await narrow.close();
    }
  });

  it("keeps a screenshot of the whole page", async () => {
    const artifacts = join(tmpdir(), "spillway-test-artifacts");
    await mkdir(artifacts, { recursive: true });
    const path = join(artifacts, "report-nov14-legacy-2024.png");
    await page.screenshot({ path, fullPage: true });
    console.log(`report screenshot: ${path}`);
    expect(existsSync(path)).toBe(true);
  });
});
