// Terminal summaries of experiment runs: one profile, or several side by side (--compare).

import type { Journal, Verdict } from "../experiment/journal.ts";
import type { Category } from "../ledger/ledger.ts";
import { INVARIANT_NAMES } from "../invariants/types.ts";
import { count, percent, renderTable } from "./table.ts";

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
): [string, string] {
  if (verdict === null) return [label, "-"];
  const value = verdict.ledger[category];
  const { expected } = verdict.ledger;
  if (!withShare || expected === 0) return [label, count(value)];
  return [label, `${count(value)} (${percent(value / expected)} of expected)`];
}

function rows(journal: Journal, withExpectations: boolean): Array<[string, string]> {
  const verdict = journal.verdict;
  const figures = verdict?.figures;
  const window = verdict?.incidentWindow;
  return [
    ["status", `${journal.status}${journal.deviated ? " (deviated)" : ""}`],
    ...INVARIANT_NAMES.map((name): [string, string] => [
      name,
      cell(journal, name, withExpectations),
    ]),
    // What the producer saw, then where every produced event went (docs/architecture.md §5):
    // produced = expected + rejected + indeterminate + unconfigured.
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
      "  in incident window",
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
    ...(withExpectations
      ? [["as expected", journal.asExpected ? "yes" : "NO"] satisfies [string, string]]
      : []),
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
function acknowledgementLines(journals: readonly Journal[]): string[] {
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

/**
 * A table with one column per run. Without expectations (a replay, which judges the run against
 * what its schedule recorded) the invariants show their status only and there is no "as
 * expected" row.
 */
export function formatSummary(
  journals: readonly Journal[],
  { withExpectations = true }: { withExpectations?: boolean } = {},
): string {
  const table = journals.map((journal) => rows(journal, withExpectations));
  const labels = table[0]!.map(([label]) => label);
  const header = [
    "",
    ...journals.map(
      (journal) =>
        journal.profile +
        (journal.flaws.length > 0 && journal.profile === "hardened"
          ? `+${journal.flaws.length} flaws`
          : ""),
    ),
  ];
  const body = labels.map((label, row) => [label, ...table.map((column) => column[row]![1])]);
  const lines = [
    `${journals[0]!.experiment}: ${journals[0]!.description}`,
    ...renderTable([header, ...body]),
    ...acknowledgementLines(journals),
  ];
  for (const journal of journals) {
    for (const result of Object.values(journal.verdict?.invariants ?? {})) {
      if (result.status !== "held")
        lines.push(`  [${journal.profile}] ${result.name}: ${result.summary}`);
    }
    if (journal.error !== undefined)
      lines.push(`  [${journal.profile}] harness error: ${journal.error.split("\n")[0]}`);
  }
  return lines.join("\n");
}
