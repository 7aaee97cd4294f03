// One chart as inline SVG, drawn on the server by ECharts' SSR SVG renderer (no DOM, no script
// in the page): a report opened from disk shows it as is (docs/reports.md).

import * as echarts from "echarts";
import type { EChartsOption } from "echarts";

/** The size charts are drawn at; the page scales them to its width (viewBox, CSS width 100%). */
export const CHART_SIZE_PX = { width: 760, height: 280 } as const;

/** The shade of a fault window (the SVG says fill="rgb(214,39,40)"; browser tests find bands by it). */
export const FAULT_BAND_RGB = [214, 39, 40] as const;
export const FAULT_BAND_COLOR = `rgba(${FAULT_BAND_RGB.join(", ")}, 0.13)`;

/** The shade of a span when a service was unhealthy: a thin band at the foot of the flow chart. */
export const HEALTH_BAND_RGB = [138, 109, 0] as const;
export const HEALTH_BAND_COLOR = `rgba(${HEALTH_BAND_RGB.join(", ")}, 0.55)`;

/** The legend's font size, used by no other text (browser tests find the legend by it). */
export const LEGEND_FONT_PX = 11;

/** The legend every chart has: on top, in its own font size; `names` leaves other series out. */
export function legend(names?: string[]) {
  return {
    top: 4,
    type: "plain" as const,
    textStyle: { fontSize: LEGEND_FONT_PX },
    ...(names === undefined ? {} : { data: names }),
  };
}

/** Series colours, one per name, so that the same thing has the same colour on every chart. */
export const SERIES_COLORS = {
  produced: "#7f7f7f",
  acknowledged: "#1f77b4",
  delivered: "#2ca02c",
  declared: "#ff7f0e",
  lost: "#d62728",
  rejected: "#8c564b",
  indeterminate: "#e377c2",
  bound: "#9467bd",
} as const;

/** Colours for series named by the journal (services, tenants), in turn. */
export const PALETTE = [
  "#1f77b4",
  "#ff7f0e",
  "#2ca02c",
  "#d62728",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#17becf",
  "#bcbd22",
  "#7f7f7f",
];

export function renderChart(
  option: EChartsOption,
  size: { width: number; height: number } = CHART_SIZE_PX,
): string {
  const chart = echarts.init(null, null, {
    renderer: "svg",
    ssr: true,
    width: size.width,
    height: size.height,
  });
  try {
    chart.setOption({ animation: false, textStyle: { fontFamily: "sans-serif" }, ...option });
    return chart.renderToSVGString();
  } finally {
    chart.dispose();
  }
}

/** The smallest of 1, 2, 5 × 10^k at or above `value`, so that shared axes get round ticks. */
export function niceCeil(value: number): number {
  if (!Number.isFinite(value) || value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}
