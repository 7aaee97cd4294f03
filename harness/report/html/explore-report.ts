// The HTML report of `spillway explore` (docs/reports.md): the shrunk schedule as a timeline,
// each fault a bar from its offset for its duration (a diamond when it is instant), beside the
// violated invariant's summary and evidence, the schedule as a table and how to replay it. Only
// the shrunk schedule's summary and evidence: explore keeps no journal of it (replay makes one).

import type { BarSeriesOption, EChartsOption, ScatterSeriesOption } from "echarts";
import type { ExploreResult } from "../../explore/explore.ts";
import { replayCommandLines, type ScheduleStep } from "../../explore/schedule.ts";
import { formatFaultParams } from "../../faults/params.ts";
import { legend, renderChart, SERIES_COLORS } from "./chart.ts";
import { escapeHtml } from "./escape.ts";
import { generatedNote, htmlPage, section, type ReportOptions } from "./report.ts";
import { evidenceText, table } from "./tables.ts";

/** A fault's parameters as `name=value`, e.g. `tenant=t000 dataset=dns_logs`. */
export function faultParams(step: ScheduleStep): string {
  const { kind: _kind, ...params } = step.fault;
  return formatFaultParams(params);
}

/** A step's name on the timeline's axis: its place in the schedule and its kind. */
const stepLabel = (step: ScheduleStep, index: number) => `${index + 1}. ${step.fault.kind}`;

const LASTING = "fault (for its duration)";
const INSTANT = "instant fault";

/** Height per fault on the timeline. */
const ROW_HEIGHT_PX = 30;

/**
 * The schedule on a time axis of `durationMs` (the scenario's length): a fault with a duration is
 * a bar (an invisible offset stacked under a visible length), an instant one a diamond.
 */
export function scheduleTimeline(steps: readonly ScheduleStep[], durationMs: number): string {
  const endS = Math.max(durationMs, ...steps.map((step) => step.at + (step.for ?? 0))) / 1_000;
  // "-" is ECharts' empty value: no bar for an instant fault.
  const lastingOnly = (ms: (step: ScheduleStep) => number) =>
    steps.map((step) => (step.for === undefined ? "-" : ms(step) / 1_000));
  const offset: BarSeriesOption = {
    type: "bar",
    stack: "fault",
    silent: true,
    itemStyle: { color: "transparent" },
    data: lastingOnly((step) => step.at),
  };
  const lasting: BarSeriesOption = {
    type: "bar",
    name: LASTING,
    stack: "fault",
    barWidth: 14,
    itemStyle: { color: SERIES_COLORS.lost },
    label: { show: true, position: "right", fontSize: 10, formatter: "{c} s" },
    data: lastingOnly((step) => step.for ?? 0),
  };
  const instant: ScatterSeriesOption = {
    type: "scatter",
    name: INSTANT,
    symbol: "diamond",
    symbolSize: 14,
    itemStyle: { color: SERIES_COLORS.lost },
    data: steps.flatMap((step, index) =>
      step.for === undefined ? [[step.at / 1_000, index]] : [],
    ),
  };
  const option: EChartsOption = {
    grid: { left: 200, right: 48, top: 36, bottom: 40 },
    legend: legend([LASTING, INSTANT]),
    // Ticks every 5 s (or 1 s in a short run) up to the first past the end.
    xAxis: {
      type: "value",
      min: 0,
      max: endS <= 10 ? Math.ceil(endS) : Math.ceil(endS / 5) * 5,
      name: "s",
      nameLocation: "end",
    },
    yAxis: {
      type: "category",
      inverse: true,
      data: steps.map(stepLabel),
      axisLabel: { width: 190, overflow: "truncate" },
    },
    series: [offset, lasting, instant],
  };
  return renderChart(option, {
    width: 760,
    height: Math.max(160, 76 + ROW_HEIGHT_PX * steps.length),
  });
}

function scheduleTable(steps: readonly ScheduleStep[]): string {
  return table(
    ["", "at", "for", "fault", "parameters"],
    steps.map((step, index) => [
      String(index + 1),
      `${(step.at / 1_000).toFixed(1)} s`,
      step.for === undefined ? "instant" : `${(step.for / 1_000).toFixed(1)} s`,
      escapeHtml(step.fault.kind),
      escapeHtml(faultParams(step)),
    ]),
    "schedule",
  );
}

function timelineFigure(steps: readonly ScheduleStep[], durationMs: number): string {
  return `<figure class="chart" data-chart="schedule">${
    steps.length === 0
      ? '<p class="note">The schedule has no fault.</p>'
      : scheduleTimeline(steps, durationMs)
  }</figure>${scheduleTable(steps)}`;
}

export function renderExploreReport(
  result: ExploreResult,
  context: {
    /** The scenario's length, the timeline's axis. */
    durationMs: number;
    /** Where the schedule was saved, for the replay commands. */
    file: string | null;
    /** What was searched: profile, flaws, faults, seed. */
    focus: string;
  },
  options: ReportOptions = {},
): string {
  const generated = generatedNote(options);
  const seconds = (result.elapsedMs / 1_000).toFixed(1);
  const verdict = !result.found
    ? `Nothing found: ${result.runs} schedules ran on the simulator and broke nothing (${seconds} s).`
    : result.error !== null
      ? `A run failed after ${result.runs} schedules: ${result.error}`
      : `${result.invariant} violated after ${result.runs} schedules; shrunk in ${result.shrinkRuns} more runs (${seconds} s).`;
  const sections = [
    `<header><h1>spillway explore</h1><p>${escapeHtml(context.focus)}</p><p><strong${result.found ? ' class="bad"' : ""}>${escapeHtml(verdict)}</strong>${generated}</p></header>`,
  ];
  if (result.schedule !== null) {
    const invariant =
      result.invariant === null
        ? '<p class="note">No invariant: the run failed (above).</p>'
        : `<details class="invariant violated" open><summary><span class="status">violated</span> <strong>${escapeHtml(result.invariant)}</strong>: ${escapeHtml(result.summary ?? "")}</summary><pre>${evidenceText(result.evidence)}</pre></details>`;
    const replay =
      context.file === null
        ? ""
        : `<p>Saved to <code>${escapeHtml(context.file)}</code>; replay it:</p><pre>${escapeHtml(
            replayCommandLines(context.file).join("\n"),
          )}</pre>`;
    sections.push(
      `<section id="found"><h2>Minimal schedule and what it breaks</h2><div class="profiles"><div><h3>Schedule (${result.schedule.steps.length} fault${result.schedule.steps.length === 1 ? "" : "s"})</h3>${timelineFigure(result.schedule.steps, context.durationMs)}</div><div><h3>Invariant</h3>${invariant}${replay}</div></div></section>`,
    );
  }
  const unknown = result.firstUnknown;
  if (result.unknownRuns > 0 && unknown !== null)
    sections.push(
      section(
        "unknown",
        "Runs left unknown",
        escapeHtml(
          `${result.unknownRuns} runs broke nothing but left an invariant unknown (${Object.entries(
            result.unknownByInvariant,
          )
            .map(([name, runs]) => `${name} ${runs}`)
            .join(", ")}): not violations, and not passes either. The first:`,
        ),
        timelineFigure(unknown.steps, context.durationMs) +
          unknown.invariants
            .map(
              ({ name, summary }) =>
                `<p><strong>${escapeHtml(name)}</strong> unknown: ${escapeHtml(summary)}</p>`,
            )
            .join(""),
      ),
    );
  return htmlPage(`Spillway explore: ${context.focus}`, sections);
}
