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

  it("states under the table what a target's ingress counted as acknowledged, once for one ingress", () => {
    const onTarget = (profile: string, acknowledgement: string | null): Journal => ({
      ...journal,
      profile,
      target: {
        name: "relay",
        file: "/t.yaml",
        variant: profile,
        ingress: "syslog",
        acknowledgement,
      },
    });
    const written = "written to the TCP socket without error";
    const lines = formatSummary([onTarget("a", written), onTarget("b", written)]).split("\n");
    const stated = lines.filter((line) => line.includes("acknowledged ("));
    expect(stated).toEqual([`acknowledged (syslog ingress): ${written}`]);
    // Right under the table: the line before it is the table's last row.
    expect(lines[lines.indexOf(stated[0]!) - 1]).toMatch(/^as expected /);
    const differing = formatSummary([onTarget("a", written), onTarget("b", "a 2xx answer")]);
    expect(differing).toContain(`[a] acknowledged (syslog ingress): ${written}`);
    expect(differing).toContain("[b] acknowledged (syslog ingress): a 2xx answer");
    expect(formatSummary([journal])).not.toContain("acknowledged (");
    expect(formatSummary([onTarget("a", null)])).not.toContain("acknowledged (");
  });

  it("shows a dash for every figure of a run without a verdict", () => {
    const text = formatSummary([{ ...journal, status: "failed", verdict: null }]);
    expect(rowOf(text, "indeterminate")).toBe("-");
    expect(rowOf(text, "delivered without job")).toBe("-");
  });
});
