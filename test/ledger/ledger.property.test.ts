// computeLedger works on ranges; the reference works one event at a time. On generated delivery
// histories they agree exactly, per tenant, in total and in the evidence samples.

import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import {
  CATEGORIES,
  computeLedger,
  type Counts,
  type LedgerDelivery,
} from "../../harness/ledger/ledger.ts";
import { referenceLedger } from "../../harness/ledger/reference.ts";
import { historyArb } from "./histories.ts";

const RUNS = 400;

describe("ledger against the naive reference", () => {
  test.prop([historyArb], { numRuns: RUNS })(
    "counts every category exactly as the reference",
    (input) => {
      expect(computeLedger(input)).toEqual(referenceLedger(input));
    },
  );

  test.prop([historyArb], { numRuns: RUNS })(
    "puts every produced event in one class and every expected event in one fate",
    (input) => {
      const report = computeLedger(input);
      for (const counts of [report.totals, ...Object.values(report.tenants)]) {
        expect(counts.produced).toBe(
          counts.expected + counts.rejected + counts.indeterminate + counts.unconfigured,
        );
        expect(counts.expected).toBe(counts.delivered + counts.declared + counts.lost);
      }
    },
  );

  test.prop([historyArb], { numRuns: RUNS })("totals are the sums over tenants", (input) => {
    const report = computeLedger(input);
    const sums = Object.fromEntries(CATEGORIES.map((category) => [category, 0])) as Counts;
    for (const counts of Object.values(report.tenants)) {
      for (const category of CATEGORIES) sums[category] += counts[category];
    }
    expect(report.totals).toEqual(sums);
  });

  test.prop([historyArb, fc.nat()], { numRuns: 100 })(
    "does not depend on how copies are split into sink records or in which order they come",
    (input, rotation) => {
      // Every stream range and every corrupt entry becomes a record of its own, rotated.
      const records: LedgerDelivery[] = [...input.deliveries].flatMap(
        ({ destination, streams, corrupt }) => [
          ...streams.flatMap((entry) =>
            entry.ranges.map((range) => ({
              destination,
              streams: [{ ...entry, ranges: [range] }],
            })),
          ),
          ...(corrupt ?? []).map((entry) => ({ destination, streams: [], corrupt: [entry] })),
        ],
      );
      const cut = records.length === 0 ? 0 : rotation % records.length;
      const rotated = [...records.slice(cut), ...records.slice(0, cut)];
      const whole = computeLedger(input);
      const split = computeLedger({ ...input, deliveries: rotated });
      expect(split.totals).toEqual(whole.totals);
      expect(split.tenants).toEqual(whole.tenants);
    },
  );
});
