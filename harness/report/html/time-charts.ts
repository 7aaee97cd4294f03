// The charts over a run's time (docs/reports.md): the event flow, the buffer and each service's
// memory against their bounds, and loss per tenant, each with the fault windows shaded. With
// several journals (--compare) every chart of a kind shares its axes, so profiles compare at a
// glance.

import type { EChartsOption, LineSeriesOption, MarkAreaComponentOption } from "echarts";
import { EVENT_CLASSES } from "../../experiment/series-build.ts";
import type { Buckets, RunSeries } from "../../experiment/series.ts";
import {
  FAULT_BAND_COLOR,
  HEALTH_BAND_COLOR,
  legend,
  niceCeil,
  PALETTE,
  renderChart,
  SERIES_COLORS,
} from "./chart.ts";

interface Line {
  name: string;
  color: string;
  values: Buckets;
  /** Multiplies each value (events per bucket → events per second). */
  scale: number;
  /** An area is a line filled to the axis (or to the series below it in a stack). */
  kind: "line" | "area";
  /** Series with the same stack add up (loss per tenant). */
  stack?: string;
}

interface Instant {
  atMs: number;
  label: string;
  color: string;
}

interface Bound {
  name: string;
  value: number;
  color: string;
}

/** A span of buckets in which the same services were seen unhealthy. */
export interface UnhealthySpan {
  fromMs: number;
  toMs: number;
  services: string[];
}

/** One chart over time of one run, before it is drawn. */
export interface TimeChartSpec {
  yName: string;
  lines: Line[];
  bounds: Bound[];
  /** Vertical marks: configs published, loss beginning. */
  instants: Instant[];
  /** Spans with a service unhealthy, drawn as a thin band at the foot of the chart. */
  unhealthy?: UnhealthySpan[];
}

export type TimeChartKind = "flow" | "buffer" | "buffers" | "memory" | "tenant-loss";

/** Configs marked on the flow chart at most: an exploration can publish hundreds. */
const CONFIG_MARKS_MAX = 40;

const perSecond = (series: RunSeries) => 1_000 / series.bucketMs;

/** Consecutive buckets with the same services unhealthy, as one span each. */
export function unhealthySpans(series: RunSeries): UnhealthySpan[] {
  const spans: UnhealthySpan[] = [];
  let open: UnhealthySpan | null = null;
  series.unhealthy.forEach((services, index) => {
    const names = [...new Set(services ?? [])].sort();
    const key = names.join(", ");
    if (open !== null && open.services.join(", ") === key) {
      open.toMs = (index + 1) * series.bucketMs;
      return;
    }
    open = null;
    if (names.length === 0) return;
    open = {
      fromMs: index * series.bucketMs,
      toMs: (index + 1) * series.bucketMs,
      services: names,
    };
    spans.push(open);
  });
  return spans;
}

function flowSpec(series: RunSeries): TimeChartSpec {
  // Rejected and indeterminate events are drawn only in a run that has any.
  const names = EVENT_CLASSES.filter(
    (name) =>
      (name !== "rejected" && name !== "indeterminate") ||
      series.events[name].some((value) => value !== null && value > 0),
  );
  const lines = names.map((name): Line => ({
    name,
    color: SERIES_COLORS[name],
    values: series.events[name],
    scale: perSecond(series),
    kind: name === "lost" ? "area" : "line",
  }));
  const firstLoss = series.events.lost.findIndex((value) => value !== null && value > 0);
  const instants = series.configs
    .filter((config) => config.kind === "published")
    .slice(0, CONFIG_MARKS_MAX)
    .map((config): Instant => ({
      atMs: config.atMs,
      label: `config v${config.version ?? "?"}${config.invalid === null ? "" : " (invalid)"}`,
      color: config.invalid === null ? SERIES_COLORS.acknowledged : SERIES_COLORS.declared,
    }));
  if (firstLoss >= 0)
    instants.push({
      atMs: firstLoss * series.bucketMs,
      label: "loss begins",
      color: SERIES_COLORS.lost,
    });
  return {
    yName: "events/s (by production time)",
    lines,
    bounds: [],
    instants,
    unhealthy: unhealthySpans(series),
  };
}

/** A quantity the buffer holds over time, under its bound if one is declared. */
function heldSpec(
  yName: string,
  name: string,
  values: Buckets,
  bound: number | null,
): TimeChartSpec {
  return {
    yName,
    lines: [{ name, color: SERIES_COLORS.acknowledged, values, scale: 1, kind: "line" }],
    bounds: bound === null ? [] : [{ name: "bound", value: bound, color: SERIES_COLORS.bound }],
    instants: [],
  };
}

function bufferSpec(series: RunSeries): TimeChartSpec {
  const { buffer } = series;
  const yName = buffer.unit === "bytes" ? "bytes buffered" : "events owed";
  return heldSpec(yName, "held", buffer.held, buffer.bound);
}

function buffersSpec(series: RunSeries): TimeChartSpec | null {
  const { buffers, buffersBound } = series.buffer;
  return buffers === null ? null : heldSpec("buffers held", "buffers", buffers, buffersBound);
}

function memorySpec(series: RunSeries): TimeChartSpec {
  const lines: Line[] = [];
  const bounds: Bound[] = [];
  series.memory.forEach((service, index) => {
    const color = PALETTE[index % PALETTE.length]!;
    lines.push({ name: service.service, color, values: service.mb, scale: 1, kind: "line" });
    if (service.capMb !== null)
      bounds.push({ name: `${service.service} cap`, value: service.capMb, color });
  });
  return { yName: "MB", lines, bounds, instants: [] };
}

function tenantLossSpec(series: RunSeries): TimeChartSpec {
  const lines = Object.entries(series.lostByTenant).map(([tenant, values], index): Line => ({
    name: tenant,
    color: PALETTE[index % PALETTE.length]!,
    values,
    scale: 1,
    kind: "area",
    stack: "lost",
  }));
  return { yName: "events lost (by production time)", lines, bounds: [], instants: [] };
}

export function timeChartSpec(kind: TimeChartKind, series: RunSeries): TimeChartSpec | null {
  switch (kind) {
    case "flow":
      return flowSpec(series);
    case "buffer":
      return bufferSpec(series);
    case "buffers":
      return buffersSpec(series);
    case "memory":
      return memorySpec(series);
    case "tenant-loss":
      return tenantLossSpec(series);
  }
}

/** The highest value the chart shows (a stack counts as its sum), bounds included. */
export function specMax(spec: TimeChartSpec): number {
  let max = Math.max(0, ...spec.bounds.map((bound) => bound.value));
  const stacks = new Map<string, number[]>();
  for (const line of spec.lines) {
    const sums = line.stack === undefined ? undefined : (stacks.get(line.stack) ?? []);
    line.values.forEach((value, index) => {
      const scaled = (value ?? 0) * line.scale;
      if (sums === undefined) max = Math.max(max, scaled);
      else sums[index] = (sums[index] ?? 0) + scaled;
    });
    if (sums !== undefined && line.stack !== undefined) stacks.set(line.stack, sums);
  }
  for (const sums of stacks.values()) max = Math.max(max, ...sums.map((sum) => sum ?? 0));
  return max;
}

function points(series: RunSeries, line: Line): Array<[number, number | "-"]> {
  const widthS = series.bucketMs / 1_000;
  // "-" is ECharts' empty value: a bucket without a reading is a gap, not a zero.
  return line.values.map((value, index) => [
    index * widthS,
    value === null ? "-" : value * line.scale,
  ]);
}

/** Bands carry a short label; the events table says which fault it is (docs/reports.md). */
export const faultLabel = (index: number) => `F${index + 1}`;

function faultBands(series: RunSeries, durationMs: number): MarkAreaComponentOption {
  return {
    silent: true,
    itemStyle: { color: FAULT_BAND_COLOR },
    label: { show: true, position: "insideTop" as const, fontSize: 10, color: "#8b1a1a" },
    data: series.faults.map(
      (fault, index): [{ name: string; xAxis: number }, { xAxis: number }] => [
        {
          name: faultLabel(index),
          xAxis: fault.fromMs / 1_000,
        },
        { xAxis: (fault.toMs ?? durationMs) / 1_000 },
      ],
    ),
  };
}

function markLines(spec: TimeChartSpec) {
  return {
    silent: true,
    symbol: "none",
    data: [
      ...spec.bounds.map((bound) => ({
        name: bound.name,
        yAxis: bound.value,
        lineStyle: { color: bound.color, type: "dashed" as const, width: 1.5 },
        label: { formatter: "{b}", position: "insideEndTop" as const, color: bound.color },
      })),
      ...spec.instants.map((instant) => ({
        name: instant.label,
        xAxis: instant.atMs / 1_000,
        lineStyle: { color: instant.color, type: "dotted" as const, width: 1 },
        label: {
          formatter: "{b}",
          position: "insideEndTop" as const,
          color: instant.color,
          fontSize: 10,
        },
      })),
    ],
  };
}

/** Share of the value axis the health band is tall. */
const HEALTH_BAND_SHARE = 0.04;

/**
 * The health band rides on a series of its own with no data (a series has one mark area, and
 * the first one's are the fault windows); the legend leaves it out.
 */
function healthSeries(spans: UnhealthySpan[], yTop: number): LineSeriesOption {
  return {
    type: "line",
    name: "unhealthy",
    data: [],
    silent: true,
    markArea: {
      silent: true,
      itemStyle: { color: HEALTH_BAND_COLOR },
      label: { show: true, position: "top" as const, fontSize: 9, color: "#6b5400" },
      data: spans.map(
        (
          span,
        ): [{ name: string; xAxis: number; yAxis: number }, { xAxis: number; yAxis: number }] => [
          { name: `unhealthy: ${span.services.join(", ")}`, xAxis: span.fromMs / 1_000, yAxis: 0 },
          { xAxis: span.toMs / 1_000, yAxis: yTop * HEALTH_BAND_SHARE },
        ],
      ),
    },
  };
}

/** The chart of one run, on axes shared with the other runs of the report. */
export function renderTimeChart(
  spec: TimeChartSpec,
  series: RunSeries,
  axes: { durationMs: number; xMaxS: number; yMax: number },
): string {
  const chartSeries = spec.lines.map((line, index) => {
    const common = {
      name: line.name,
      data: points(series, line),
      itemStyle: { color: line.color },
      ...(line.stack === undefined ? {} : { stack: line.stack }),
      // The fault bands and the marks ride on the first series: drawn once per chart.
      ...(index === 0
        ? { markArea: faultBands(series, axes.durationMs), markLine: markLines(spec) }
        : {}),
    };
    // Lines and areas, not bars: a bar is an SVG element per bucket, a line one path per series,
    // which keeps a long run's report small (docs/reports.md).
    return {
      type: "line",
      showSymbol: false,
      lineStyle: { color: line.color, width: 1.5 },
      connectNulls: false,
      ...(line.kind === "area" ? { areaStyle: { color: line.color, opacity: 0.45 } } : {}),
      ...common,
    } satisfies LineSeriesOption;
  });
  if (chartSeries.length === 0) return "";
  const yTop = niceCeil(axes.yMax);
  const spans = spec.unhealthy ?? [];
  const option: EChartsOption = {
    grid: { left: 72, right: 24, top: 48, bottom: 44 },
    legend: legend(spec.lines.map((line) => line.name)),
    xAxis: { type: "value", min: 0, max: axes.xMaxS, name: "s", nameLocation: "end" },
    yAxis: {
      type: "value",
      min: 0,
      max: yTop,
      name: spec.yName,
      nameTextStyle: { align: "left" },
    },
    series: spans.length === 0 ? chartSeries : [...chartSeries, healthSeries(spans, yTop)],
  };
  return renderChart(option);
}
