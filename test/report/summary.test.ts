// The terminal summary shows where every produced event went: each ledger category on its
// own row, with the share of the expected for delivered, lost and indeterminate.

import { describe, expect, it } from "vitest";
import type { Journal } from "../../harness/experiment/journal.ts";
import { CATEGORIES, type Counts } from "../../harness/ledger/ledger.ts";
import { formatSummary } from "../../harness/report/summary.ts";

/** Every category a distinct count, so that a row showing the wrong one is seen. */
const ledger = Object.fromEntries(
  CATEGORIES.map((category, index) => [category, 1_000 + index]),
) as Counts;

const journal = {
  experiment: "tiny",
  description: "a run",
  profile: "hardened",
  flaws: [],
  status: "completed",
  deviated: false,
  asExpected: true,
  outcomes: [],
  verdict: {
    invariants: {},
    ledger,
    ledgerByTenant: {},
    incidentWindow: null,
    figures: {
      produced: 9_000,
      acknowledged: 8_000,
      deliveredShare: 0,
      silentLossShare: 0,
      bufferHighWaterBytes: 10,
      bufferBoundBytes: 100,
      bufferHighWaterBuffers: 2,
      bufferBoundBuffers: 8,
      eventsPerSecond: 1,
    },
  },
} as unknown as Journal;

const rowOf = (text: string, label: string): string | undefined =>
  text
    .split("\n")
    .find((line) => line.startsWith(`${label}  `))
    ?.slice(label.length)
    .trim();

describe("formatSummary", () => {
  it("shows what the producer saw and every ledger category, each from its own count", () => {
    const text = formatSummary([journal]);
    const share = (category: keyof Counts) =>
      `${((100 * ledger[category]) / ledger.expected).toFixed(1)}% of expected`;
    expect({
      produced: rowOf(text, "produced"),
      acknowledged: rowOf(text, "acknowledged"),
      rejected: rowOf(text, "rejected"),
      indeterminate: rowOf(text, "indeterminate"),
      unconfigured: rowOf(text, "unconfigured"),
      expected: rowOf(text, "expected"),
      delivered: rowOf(text, "delivered"),
      declared: rowOf(text, "declared dropped"),
      lost: rowOf(text, "lost silently"),
      duplicated: rowOf(text, "duplicated"),
      misdelivered: rowOf(text, "misdelivered"),
      unexpected: rowOf(text, "unexpected"),
      deliveredWithoutJob: rowOf(text, "delivered without job"),
    }).toEqual({
      produced: "9,000",
      acknowledged: "8,000",
      rejected: ledger.rejected.toLocaleString("en-US"),
      indeterminate: `${ledger.indeterminate.toLocaleString("en-US")} (${share("indeterminate")})`,
      unconfigured: ledger.unconfigured.toLocaleString("en-US"),
      expected: ledger.expected.toLocaleString("en-US"),
      delivered: `${ledger.delivered.toLocaleString("en-US")} (${share("delivered")})`,
      declared: ledger.declared.toLocaleString("en-US"),
      lost: `${ledger.lost.toLocaleString("en-US")} (${share("lost")})`,
      duplicated: ledger.duplicated.toLocaleString("en-US"),
      misdelivered: ledger.misdelivered.toLocaleString("en-US"),
      unexpected: ledger.unexpected.toLocaleString("en-US"),
      deliveredWithoutJob: ledger.deliveredWithoutJob.toLocaleString("en-US"),
    });
  });

  it("shows a dash for every figure of a run without a verdict", () => {
    const text = formatSummary([{ ...journal, status: "failed", verdict: null }]);
    expect(rowOf(text, "indeterminate")).toBe("-");
    expect(rowOf(text, "delivered without job")).toBe("-");
  });
});
