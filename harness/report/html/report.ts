// One self-contained HTML report of one or more runs (docs/reports.md): the charts as inline SVG
// drawn on the server, the tables, the CSS inline; no script, font or image from any host, so
// that it opens from disk, offline, and prints. Several journals (--compare) show side by side
// on the same axes.

import type { Journal } from "../../experiment/journal.ts";
import { escapeHtml } from "./escape.ts";
import { REPORT_CSS } from "./style.ts";
import {
  eventsTable,
  invariantList,
  ledgerTable,
  overviewTable,
  profileLabel,
  stepsTable,
  tenantLossTable,
} from "./tables.ts";
import { renderTimeChart, specMax, timeChartSpec, type TimeChartKind } from "./time-charts.ts";

export interface ReportOptions {
  /** Shown in the header; absent keeps the report a pure function of the journals. */
  generatedAt?: Date;
}

/** Journals one report takes at most. */
export const REPORT_JOURNALS_MAX = 12;

const NO_SERIES_NOTE =
  '<p class="note">This journal carries no time series (it was written by an older Spillway): no charts, the tables below still apply.</p>';

/** One chart kind for every journal, side by side, sharing the time and value axes. */
function chartRow(journals: Journal[], kind: TimeChartKind): string {
  const xMaxS = Math.max(...journals.map((journal) => journal.durationMs)) / 1_000;
  const specs = journals.map((journal) =>
    journal.series === undefined ? null : timeChartSpec(kind, journal.series),
  );
  const yMax = Math.max(0, ...specs.map((spec) => (spec === null ? 0 : specMax(spec))));
  const figures = journals.map((journal, index) => {
    const spec = specs[index] ?? null;
    const series = journal.series;
    let body: string;
    if (series === undefined) body = NO_SERIES_NOTE;
    else if (spec === null || spec.lines.length === 0)
      body = '<p class="note">Nothing to draw for this run.</p>';
    else body = renderTimeChart(spec, series, { durationMs: journal.durationMs, xMaxS, yMax });
    return `<figure class="chart" data-chart="${kind}" data-profile="${profileLabel(journal)}"><figcaption>${profileLabel(journal)}</figcaption>${body}</figure>`;
  });
  return `<div class="profiles">${figures.join("\n")}</div>`;
}

function perJournal(journals: Journal[], render: (journal: Journal) => string): string {
  const columns = journals.map(
    (journal) => `<div><h3>${profileLabel(journal)}</h3>${render(journal)}</div>`,
  );
  return `<div class="profiles">${columns.join("\n")}</div>`;
}

export function section(id: string, title: string, intro: string, body: string): string {
  return `<section id="${id}"><h2>${title}</h2>${intro === "" ? "" : `<p>${intro}</p>`}${body}</section>`;
}

export function renderReport(journals: Journal[], options: ReportOptions = {}): string {
  if (journals.length === 0 || journals.length > REPORT_JOURNALS_MAX)
    throw new RangeError(
      `journals: ${journals.length} given; a report takes 1 to ${REPORT_JOURNALS_MAX}`,
    );
  const first = journals[0]!;
  const hasBuffers = journals.some((journal) => journal.series?.buffer.buffers != null);
  const hasTenantSeries = journals.some(
    (journal) =>
      journal.series !== undefined && Object.keys(journal.series.lostByTenant).length > 0,
  );
  const generated = generatedNote(options);
  const body = [
    `<header><h1>${escapeHtml(first.experiment)}</h1><p>${escapeHtml(first.description)}</p><p class="note">Spillway ${escapeHtml(first.spillway.version)}, ${journals.length === 1 ? "one run" : `${journals.length} runs side by side on the same axes`}, started ${escapeHtml(first.startedAt)}.${generated} Shaded bands are fault windows.</p></header>`,
    section("overview", "Overview", "", overviewTable(journals)),
    section(
      "flow",
      "Event flow",
      "Events per second by the time they were produced: what became of them. Lost events are the red area; the dotted line marks where loss begins and configs published.",
      chartRow(journals, "flow"),
    ),
    section(
      "buffer",
      "Buffer against its bound",
      "The buffer's highest reading per bucket (on a target: events acknowledged and not yet delivered or declared), the dashed line its bound.",
      chartRow(journals, "buffer") + (hasBuffers ? chartRow(journals, "buffers") : ""),
    ),
    section(
      "memory",
      "Memory against caps",
      "Each service's highest resident memory per bucket; dashed lines are the caps.",
      chartRow(journals, "memory"),
    ),
    section(
      "tenants",
      "Loss per tenant",
      "",
      (hasTenantSeries ? chartRow(journals, "tenant-loss") : "") +
        perJournal(journals, tenantLossTable),
    ),
    section(
      "ledger",
      "Ledger",
      "Where every produced event went (docs/architecture.md §5).",
      ledgerTable(journals),
    ),
    section(
      "invariants",
      "Invariants",
      "Open one for its evidence.",
      perJournal(journals, invariantList),
    ),
    section(
      "steps",
      "Steps and timings",
      "",
      perJournal(journals, (journal) => stepsTable(journal) + eventsTable(journal)),
    ),
  ];
  const title = `Spillway report: ${first.experiment} (${journals.map((journal) => journal.target?.variant ?? journal.profile).join(", ")})`;
  return htmlPage(title, body);
}

/** ` Generated <time>.` for a report's header, or nothing when the time is not given. */
export function generatedNote(options: ReportOptions): string {
  return options.generatedAt === undefined
    ? ""
    : ` Generated ${escapeHtml(options.generatedAt.toISOString())}.`;
}

/** The page around a report's sections: inline CSS, and a policy that lets it fetch nothing. */
export function htmlPage(title: string, sections: string[]): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${escapeHtml(title)}</title>
<style>${REPORT_CSS}</style>
</head>
<body>
${sections.join("\n")}
</body>
</html>
`;
}
