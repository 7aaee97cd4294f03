// Counterfactuals: the same experiment with different subsets of the incident's flaws
// switched on. Which single safeguard, restored alone, would have prevented the loss?

import { FLAWS, isFlaw, type Flaw } from "../../pipeline/core/flaws.ts";
import type { Journal } from "../experiment/journal.ts";
import { percent, renderTable } from "./table.ts";

/**
 * The subsets to run. `leave-one-out` (the default): all flaws, all but each one, none.
 * `all`: every subset. Otherwise a list of subsets separated by `;`, each a comma-separated
 * list of flaws (`none` or an empty item for no flaw). Throws naming a bad flaw.
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

function label(subset: readonly Flaw[], all: readonly Flaw[]): string {
  if (subset.length === all.length) return "all flaws";
  if (subset.length === 0) return "none (hardened)";
  if (subset.length === all.length - 1)
    return `all but ${all.find((flaw) => !subset.includes(flaw))}`;
  return subset.join(",");
}

export function formatMatrix(
  rows: ReadonlyArray<{ subset: Flaw[]; journal: Journal }>,
  all: readonly Flaw[],
): string {
  const header = [
    "flaws on",
    "delivered",
    "silent loss",
    "in window",
    "buffer ÷ bound",
    "invariants violated",
  ];
  const body = rows.map(({ subset, journal }) => {
    const verdict = journal.verdict;
    const violated = Object.values(verdict?.invariants ?? {})
      .filter((result) => result.status === "violated")
      .map((result) => result.name);
    return [
      label(subset, all),
      percentOrDash(verdict?.figures.deliveredShare),
      percentOrDash(verdict?.figures.silentLossShare),
      percentOrDash(verdict?.incidentWindow?.silentLossShare),
      verdict === null
        ? "-"
        : `${(verdict.figures.bufferHighWaterBytes / verdict.figures.bufferBoundBytes).toFixed(2)}`,
      journal.status !== "completed"
        ? journal.status
        : violated.length === 0
          ? "none"
          : violated.join(", "),
    ];
  });
  const lines = renderTable([header, ...body]);

  const rowOf = (subset: readonly Flaw[]) =>
    rows.find(
      (row) =>
        row.subset.length === subset.length && row.subset.every((flaw) => subset.includes(flaw)),
    );
  const allFlaws = rowOf(all)?.journal.verdict;
  if (allFlaws != null && allFlaws.ledger.lost > 0) {
    const restored = all
      .map((flaw) => ({
        flaw,
        verdict: rowOf(all.filter((other) => other !== flaw))?.journal.verdict,
      }))
      .filter((entry) => entry.verdict != null)
      .sort((a, b) => a.verdict!.figures.silentLossShare - b.verdict!.figures.silentLossShare);
    if (restored.length > 0) {
      lines.push("Each safeguard restored alone (every other flaw on):");
      for (const { flaw, verdict } of restored) {
        const bounded = verdict!.invariants["bounded-buffer"]?.status === "held";
        lines.push(
          `  - against ${flaw}: silent loss ${percent(allFlaws.figures.silentLossShare)} → ${percent(verdict!.figures.silentLossShare)}, buffer ${bounded ? "within" : "over"} its bound${verdict!.ledger.lost === 0 ? "  ← prevents the loss" : ""}`,
        );
      }
      const preventing = restored.filter((entry) => entry.verdict!.ledger.lost === 0);
      lines.push(
        preventing.length === 0
          ? "No single safeguard, restored alone, prevents the silent loss."
          : `Restored alone, each of these safeguards prevents the silent loss:\n${preventing.map(({ flaw }) => `  - against ${flaw}: ${FLAWS[flaw].safeguard}`).join("\n")}`,
      );
    }
  }
  return lines.join("\n");
}
