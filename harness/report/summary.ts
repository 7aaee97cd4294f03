// Terminal summaries of experiment runs: one profile, or several side by side (--compare).

import type { Journal } from "../experiment/journal.ts";
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
    ["produced", figures === undefined ? "-" : count(figures.produced)],
    ["acknowledged", figures === undefined ? "-" : count(figures.acknowledged)],
    ["expected", verdict === null ? "-" : count(verdict.ledger.expected)],
    [
      "delivered",
      verdict === null
        ? "-"
        : `${count(verdict.ledger.delivered)} (${percent(figures!.deliveredShare)})`,
    ],
    [
      "lost silently",
      verdict === null
        ? "-"
        : `${count(verdict.ledger.lost)} (${percent(figures!.silentLossShare)})`,
    ],
    [
      "  in incident window",
      window == null
        ? "-"
        : `${count(window.ledger.lost)} of ${count(window.ledger.expected)} (${percent(window.silentLossShare)})`,
    ],
    ["declared dropped", verdict === null ? "-" : count(verdict.ledger.declared)],
    ["duplicated", verdict === null ? "-" : count(verdict.ledger.duplicated)],
    [
      "buffer high water",
      figures === undefined
        ? "-"
        : `${(figures.bufferHighWaterBytes / figures.bufferBoundBytes).toFixed(1)}× bound (${count(figures.bufferHighWaterBytes)} B, ${figures.bufferHighWaterBuffers} buffers)`,
    ],
    ...(withExpectations
      ? [["as expected", journal.asExpected ? "yes" : "NO"] satisfies [string, string]]
      : []),
  ];
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
