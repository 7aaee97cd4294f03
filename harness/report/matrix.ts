// Counterfactuals: the same experiment with different subsets of the incident's flaws
// switched on. Which single safeguard, restored alone, would have prevented the loss?

import { FLAWS, isFlaw, type Flaw } from "../../pipeline/core/flaws.ts";
import type { Journal, RunStatus, Verdict } from "../experiment/journal.ts";
import { percent, renderTable } from "./table.ts";

/**
 * The subsets to run. `leave-one-out` (the default): all flaws, all but each one, none.
 * `all`: every subset. Otherwise a list of subsets separated by `;`, each a comma-separated
 * list of flaws (`none` or an empty item for no flaw, `all` for all of `flaws`). Throws naming a
 * bad flaw.
 */
export function matrixSubsets(spec: string, flaws: readonly Flaw[]): Flaw[][] {
  if (spec === "leave-one-out")
    return [[...flaws], ...flaws.map((left) => flaws.filter((flaw) => flaw !== left)), []];
  if (spec === "all") {
    const subsets: Flaw[][] = [];
    for (let mask = (1 << flaws.length) - 1; mask >= 0; mask--)
      subsets.push(flaws.filter((_, bit) => (mask & (1 << bit)) !== 0));
    return subsets;
  }
  return spec.split(";").map((subset) => {
    if (subset.trim() === "all") return [...flaws];
    const names = subset
      .split(",")
      .map((name) => name.trim())
      .filter((name) => name.length > 0 && name !== "none");
    const unknown = names.find((name) => !isFlaw(name));
    if (unknown !== undefined)
      throw new Error(
        `--matrix: "${unknown}" is not a flaw; expected any of ${Object.keys(FLAWS).join(", ")}`,
      );
    return names as Flaw[];
  });
}

const percentOrDash = (share: number | undefined): string =>
  share === undefined ? "-" : percent(share);

/** A subset as the table and the report name it: "all flaws", "all but x", "none (hardened)". */
export function matrixLabel(subset: readonly Flaw[], all: readonly Flaw[]): string {
  const within = subset.every((flaw) => all.includes(flaw));
  if (within && subset.length === all.length) return "all flaws";
  if (subset.length === 0) return "none (hardened)";
  if (within && subset.length === all.length - 1)
    return `all but ${all.find((flaw) => !subset.includes(flaw))}`;
  return subset.join(",");
}

/** What a run that did not complete says, instead of figures it cannot vouch for. */
const NOT_JUDGED: Record<Exclude<RunStatus, "completed">, string> = {
  aborted: "aborted: the steady state did not hold, no fault was injected",
  failed: "failed: the harness itself failed",
  interrupted: "interrupted",
};
const notJudged = (status: RunStatus): string =>
  status === "completed" ? "completed" : NOT_JUDGED[status];

/**
 * Only a completed run is judged: an aborted one never injected its faults, so losing nothing
 * says nothing about a safeguard; a failed or interrupted one has no trustworthy verdict.
 */
export const judged = (journal: Journal): Verdict | null =>
  journal.status === "completed" ? journal.verdict : null;

/** Nothing lost, and no-silent-loss (when checked) not left unknown by doubt. */
const preventsLoss = (verdict: Verdict): boolean =>
  verdict.ledger.lost === 0 && verdict.invariants["no-silent-loss"]?.status !== "unknown";

export type MatrixRow = { subset: Flaw[]; journal: Journal };

/** The table's rows, its header first; each cell text (the HTML report escapes it). */
export function matrixTable(rows: readonly MatrixRow[], all: readonly Flaw[]): string[][] {
  const header = [
    "flaws on",
    "delivered",
    "silent loss",
    "in window",
    "buffer ÷ bound",
    "invariants violated",
  ];
  const body = rows.map(({ subset, journal }) => {
    const verdict = judged(journal);
    const violated = Object.values(verdict?.invariants ?? {})
      .filter((result) => result.status === "violated")
      .map((result) => result.name);
    return [
      matrixLabel(subset, all),
      percentOrDash(verdict?.figures.deliveredShare),
      percentOrDash(verdict?.figures.silentLossShare),
      percentOrDash(verdict?.incidentWindow?.silentLossShare),
      bufferRatio(journal)?.toFixed(2) ?? "-",
      journal.status !== "completed"
        ? notJudged(journal.status)
        : violated.length === 0
          ? "none"
          : violated.join(", "),
    ];
  });
  return [header, ...body];
}

/** The conclusion under the table: which single safeguard, restored alone, prevents the loss. */
export function matrixConclusion(rows: readonly MatrixRow[], all: readonly Flaw[]): string[] {
  const lines: string[] = [];

  const rowOf = (subset: readonly Flaw[]) =>
    rows.find(
      (row) =>
        row.subset.length === subset.length && row.subset.every((flaw) => subset.includes(flaw)),
    );
  const allFlawsRow = rowOf(all);
  const allFlaws = allFlawsRow === undefined ? null : judged(allFlawsRow.journal);
  if (allFlawsRow !== undefined && allFlaws === null) {
    lines.push(
      `The run with all flaws on ${notJudged(allFlawsRow.journal.status)}: no safeguard is credited.`,
    );
  }
  if (allFlaws != null && allFlaws.ledger.lost > 0) {
    const restored = all
      .map((flaw) => ({ flaw, journal: rowOf(all.filter((other) => other !== flaw))?.journal }))
      .filter((entry): entry is { flaw: Flaw; journal: Journal } => entry.journal !== undefined);
    const completed = restored
      .flatMap(({ flaw, journal }) => {
        const verdict = judged(journal);
        return verdict === null ? [] : [{ flaw, verdict }];
      })
      .sort((a, b) => a.verdict.figures.silentLossShare - b.verdict.figures.silentLossShare);
    if (restored.length > 0) {
      lines.push("Each safeguard restored alone (every other flaw on):");
      for (const { flaw, verdict } of completed) {
        const bounded = verdict.invariants["bounded-buffer"]?.status === "held";
        const unsure =
          verdict.ledger.lost === 0 && !preventsLoss(verdict) ? " (no-silent-loss unknown)" : "";
        lines.push(
          `  - against ${flaw}: silent loss ${percent(allFlaws.figures.silentLossShare)} → ${percent(verdict.figures.silentLossShare)}${unsure}, buffer ${bounded ? "within" : "over"} its bound${preventsLoss(verdict) ? "  ← prevents the loss" : ""}`,
        );
      }
      for (const { flaw, journal } of restored) {
        if (journal.status === "completed") continue;
        lines.push(`  - against ${flaw}: not judged, its run ${notJudged(journal.status)}`);
      }
      const preventing = completed.filter((entry) => preventsLoss(entry.verdict));
      lines.push(
        preventing.length === 0
          ? `No single safeguard, restored alone, prevents the silent loss${completed.length < restored.length ? " (of those whose run completed)" : ""}.`
          : `Restored alone, each of these safeguards prevents the silent loss:\n${preventing.map(({ flaw }) => `  - against ${flaw}: ${FLAWS[flaw].safeguard}`).join("\n")}`,
      );
    }
  }
  return lines;
}

/** Buffer high water ÷ bound of a completed run; null for a run not judged. */
export function bufferRatio(journal: Journal): number | null {
  const verdict = judged(journal);
  return verdict === null
    ? null
    : verdict.figures.bufferHighWaterBytes / verdict.figures.bufferBoundBytes;
}

export function formatMatrix(rows: readonly MatrixRow[], all: readonly Flaw[]): string {
  return [...renderTable(matrixTable(rows, all)), ...matrixConclusion(rows, all)].join("\n");
}
