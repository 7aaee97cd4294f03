// Terminal summaries of experiment runs: one profile, or several side by side (--compare).

import { formatAbort } from "../experiment/abort.ts";
import type { Journal, Verdict } from "../experiment/journal.ts";
import type { Category } from "../ledger/ledger.ts";
import { INVARIANT_NAMES } from "../invariants/types.ts";
import { count, percent, renderTable } from "./table.ts";

/** One row of a summary table: its label and one run's value. */
export type Row = [label: string, value: string];

function cell(
  journal: Journal,
  invariant: (typeof INVARIANT_NAMES)[number],
  withExpectations: boolean,
): string {
  const result = journal.verdict?.invariants[invariant];
  if (result === undefined) return "-";
  if (!withExpectations) return result.status;
  const outcome = journal.outcomes.find((entry) => entry.invariant === invariant);
  const mark =
    outcome === undefined ? "" : outcome.matched ? " ✓" : ` ✗ (expected ${outcome.expected})`;
  return `${result.status}${mark}`;
}

/** A ledger count, with its share of the expected where that says something. */
function ledgerRow(
  label: string,
  verdict: Verdict | null,
  category: Category,
  withShare = false,
): Row {
  if (verdict === null) return [label, "-"];
  const value = verdict.ledger[category];
  const { expected } = verdict.ledger;
  if (!withShare || expected === 0) return [label, count(value)];
  return [label, `${count(value)} (${percent(value / expected)} of expected)`];
}

/** The run's status and each invariant's, with ✓/✗ against what was expected. */
export function verdictRows(journal: Journal, withExpectations: boolean): Row[] {
  return [
    ["status", `${journal.status}${journal.deviated ? " (deviated)" : ""}`],
    ...INVARIANT_NAMES.map((name): Row => [name, cell(journal, name, withExpectations)]),
  ];
}

export const asExpectedRow = (journal: Journal): Row => [
  "as expected",
  journal.asExpected ? "yes" : "NO",
];

/** What the producer saw, then where every produced event went, then the high water. */
export function ledgerRows(journal: Journal): Row[] {
  const verdict = journal.verdict;
  const figures = verdict?.figures;
  const window = verdict?.incidentWindow;
  return [
    // docs/architecture.md §5: produced = expected + rejected + indeterminate + unconfigured.
    ["produced", figures === undefined ? "-" : count(figures.produced)],
    ["acknowledged", figures === undefined ? "-" : count(figures.acknowledged)],
    ledgerRow("rejected", verdict, "rejected"),
    ledgerRow("indeterminate", verdict, "indeterminate", true),
    ledgerRow("unconfigured", verdict, "unconfigured"),
    ledgerRow("expected", verdict, "expected"),
    ledgerRow("delivered", verdict, "delivered", true),
    ledgerRow("declared dropped", verdict, "declared"),
    ledgerRow("lost silently", verdict, "lost", true),
    [
      INCIDENT_WINDOW_LABEL,
      window == null
        ? "-"
        : `${count(window.ledger.lost)} of ${count(window.ledger.expected)} (${percent(window.silentLossShare)})`,
    ],
    ledgerRow("duplicated", verdict, "duplicated"),
    ledgerRow("misdelivered", verdict, "misdelivered"),
    ledgerRow("unexpected", verdict, "unexpected"),
    ledgerRow("delivered without job", verdict, "deliveredWithoutJob"),
    verdict?.target === undefined
      ? [
          "buffer high water",
          figures === undefined
            ? "-"
            : `${(figures.bufferHighWaterBytes / figures.bufferBoundBytes).toFixed(1)}× bound (${count(figures.bufferHighWaterBytes)} B, ${figures.bufferHighWaterBuffers} buffers)`,
        ]
      : ["backlog high water", backlogText(verdict.target.bounds.backlog)],
  ];
}

/** Indented under "lost silently": the silent loss among events produced during the faults. */
export const INCIDENT_WINDOW_LABEL = "  in incident window";

function rows(journal: Journal, withExpectations: boolean): Row[] {
  return [
    ...verdictRows(journal, withExpectations),
    ...ledgerRows(journal),
    ...(withExpectations ? [asExpectedRow(journal)] : []),
  ];
}

/** A target's backlog peak (acknowledged − delivered − declared, from outside) and its bound. */
function backlogText(backlog: { peakEvents: number; boundEvents: number | null }): string {
  return backlog.boundEvents === null
    ? `${count(backlog.peakEvents)} events (no bound declared)`
    : `${count(backlog.peakEvents)} events, ${(backlog.peakEvents / backlog.boundEvents).toFixed(2)}× bound`;
}

/**
 * On a target, what the ingress counted as acknowledged (docs/targets.md, "Ingress"): what
 * "acknowledged" and so "lost silently" mean in the table. One line, or one per run where the
 * runs' ingresses differ.
 */
export function acknowledgementLines(journals: readonly Journal[]): string[] {
  const stated = journals.flatMap((journal) =>
    journal.target?.acknowledgement == null
      ? []
      : [
          {
            profile: journal.profile,
            text: `acknowledged (${journal.target.ingress} ingress): ${journal.target.acknowledgement}`,
          },
        ],
  );
  if (stated.length === 0) return [];
  if (stated.every((entry) => entry.text === stated[0]!.text)) return [stated[0]!.text];
  return stated.map((entry) => `[${entry.profile}] ${entry.text}`);
}

/** A run's column: its profile (or variant), and how many flaws were put back into hardened. */
export function columnTitle(journal: Journal): string {
  return (
    journal.profile +
    (journal.flaws.length > 0 && journal.profile === "hardened"
      ? `+${journal.flaws.length} flaws`
      : "")
  );
}

/** What a person should read first: each invariant not held, and a harness error, per run. */
export function findings(journals: readonly Journal[]): Array<{ profile: string; text: string }> {
  return journals.flatMap((journal) => [
    ...Object.values(journal.verdict?.invariants ?? {})
      .filter((result) => result.status !== "held")
      .map((result) => ({ profile: journal.profile, text: `${result.name}: ${result.summary}` })),
    ...(journal.abort === undefined
      ? []
      : [{ profile: journal.profile, text: `aborted: ${formatAbort(journal.abort)}` }]),
    ...(journal.error === undefined
      ? []
      : [{ profile: journal.profile, text: `harness error: ${journal.error.split("\n")[0]}` }]),
  ]);
}

/** A table's body with one column per run: each row's label, then every run's value. */
export function sideBySide(
  journals: readonly Journal[],
  rowsOf: (journal: Journal) => Row[],
): string[][] {
  const table = journals.map(rowsOf);
  return table[0]!.map(([label], row) => [label, ...table.map((column) => column[row]![1])]);
}

/**
 * A table with one column per run. Without expectations (a replay, which judges the run against
 * what its schedule recorded) the invariants show their status only and there is no "as
 * expected" row.
 */
export function formatSummary(
  journals: readonly Journal[],
  { withExpectations = true }: { withExpectations?: boolean } = {},
): string {
  const header = ["", ...journals.map(columnTitle)];
  const body = sideBySide(journals, (journal) => rows(journal, withExpectations));
  const lines = [
    `${journals[0]!.experiment}: ${journals[0]!.description}`,
    ...renderTable([header, ...body]),
    ...acknowledgementLines(journals),
  ];
  for (const finding of findings(journals)) lines.push(`  [${finding.profile}] ${finding.text}`);
  return lines.join("\n");
}
