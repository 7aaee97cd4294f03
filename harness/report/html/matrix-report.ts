// The HTML report of `spillway run --matrix` (docs/reports.md): per subset of the flaws, delivered
// %, silent loss % and the buffer's high water against its bound as grouped bars, then the
// counterfactual table and which safeguard, restored alone, prevents the loss.

import type { BarSeriesOption, EChartsOption } from "echarts";
import type { Flaw } from "../../../pipeline/core/flaws.ts";
import {
  bufferRatio,
  judged,
  matrixConclusion,
  matrixLabel,
  matrixTable,
  type MatrixRow,
} from "../matrix.ts";
import { CHART_SIZE_PX, legend, niceCeil, renderChart, SERIES_COLORS } from "./chart.ts";
import { escapeHtml } from "./escape.ts";
import { generatedNote, htmlPage, section, type ReportOptions } from "./report.ts";
import { table } from "./tables.ts";

/** The figures drawn per subset, each a bar series, all in percent. */
export const MATRIX_FIGURES = [
  {
    name: "delivered %",
    color: SERIES_COLORS.delivered,
    value: (row: MatrixRow) => judged(row.journal)?.figures.deliveredShare ?? null,
  },
  {
    name: "silent loss %",
    color: SERIES_COLORS.lost,
    value: (row: MatrixRow) => judged(row.journal)?.figures.silentLossShare ?? null,
  },
  {
    name: "buffer high water % of bound",
    color: SERIES_COLORS.bound,
    value: (row: MatrixRow) => bufferRatio(row.journal),
  },
] as const;

/** Height per subset of the bar chart, so that its three bars and label stay readable. */
const ROW_HEIGHT_PX = 42;

function matrixChart(rows: readonly MatrixRow[], all: readonly Flaw[]): string {
  const labels = rows.map((row) => matrixLabel(row.subset, all));
  const series = MATRIX_FIGURES.map((figure, index): BarSeriesOption => ({
    type: "bar",
    name: figure.name,
    itemStyle: { color: figure.color },
    // "-" is ECharts' empty value: a run not judged has no bar, not a zero.
    data: rows.map((row) => {
      const value = figure.value(row);
      return value === null ? "-" : Math.round(value * 1_000) / 10;
    }),
    ...(index === 0
      ? {
          markLine: {
            silent: true,
            symbol: "none",
            data: [{ name: "bound", xAxis: 100 }],
            lineStyle: { color: SERIES_COLORS.bound, type: "dashed" as const },
            label: { formatter: "{b}", position: "insideEndTop" as const },
          },
        }
      : {}),
  }));
  const highest = Math.max(
    100,
    ...rows.flatMap((row) => MATRIX_FIGURES.map((figure) => 100 * (figure.value(row) ?? 0))),
  );
  const option: EChartsOption = {
    grid: { left: 230, right: 24, top: 40, bottom: 36 },
    legend: legend(),
    xAxis: { type: "value", min: 0, max: niceCeil(highest), name: "%", nameLocation: "end" },
    yAxis: {
      type: "category",
      data: labels,
      // The first subset (all flaws, by default) on top, as in the table.
      inverse: true,
      axisLabel: { width: 220, overflow: "truncate" },
    },
    series,
  };
  return renderChart(option, {
    width: CHART_SIZE_PX.width,
    height: 76 + ROW_HEIGHT_PX * rows.length,
  });
}

export function renderMatrixReport(
  experiment: string,
  rows: readonly MatrixRow[],
  all: readonly Flaw[],
  options: ReportOptions = {},
): string {
  const [head, ...body] = matrixTable(rows, all);
  const escape = (cells: string[]) => cells.map(escapeHtml);
  const conclusion = matrixConclusion(rows, all);
  const generated = generatedNote(options);
  const seeds = [...new Set(rows.map((row) => row.journal.seed))].join(", ");
  const sections = [
    `<header><h1>${escapeHtml(experiment)}: counterfactuals</h1><p>The same experiment with subsets of the flaws of legacy-2024 switched on (seed ${escapeHtml(seeds)}): which safeguard, restored alone, would have prevented the loss?${generated}</p></header>`,
    section(
      "matrix",
      "Per subset of flaws",
      "Delivered and silently lost shares of the events expected, and the buffer's high water as a share of its bound (the dashed line). A run that did not complete has no bars.",
      `<figure class="chart" data-chart="matrix">${rows.length === 0 ? '<p class="note">No run.</p>' : matrixChart(rows, all)}</figure>`,
    ),
    section(
      "table",
      "Table",
      "",
      table(escape(head ?? []), body.map(escape), "numbers") +
        (conclusion.length === 0 ? "" : `<pre>${escapeHtml(conclusion.join("\n"))}</pre>`),
    ),
  ];
  return htmlPage(`Spillway counterfactuals: ${experiment}`, sections);
}
