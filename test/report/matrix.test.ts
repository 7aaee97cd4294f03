// The counterfactual table: which subsets run, and which single safeguard prevents the loss.

import { describe, expect, it } from "vitest";
import { PROFILES, type Flaw } from "../../pipeline/core/flaws.ts";
import type { Journal } from "../../harness/experiment/journal.ts";
import { formatMatrix, matrixSubsets } from "../../harness/report/matrix.ts";

const ALL = PROFILES["legacy-2024"];

function journalWithLoss(lost: number): Journal {
  return {
    status: "completed",
    verdict: {
      ledger: { lost } as never,
      ledgerByTenant: {},
      invariants: { "bounded-buffer": { status: lost === 0 ? "held" : "violated" } },
      incidentWindow: null,
      figures: {
        deliveredShare: 1 - lost / 100,
        silentLossShare: lost / 100,
        bufferHighWaterBytes: 10,
        bufferBoundBytes: 20,
      } as never,
    },
  } as unknown as Journal;
}

describe("counterfactual matrix", () => {
  it("leave-one-out runs all flaws, all but each one, and none", () => {
    const subsets = matrixSubsets("leave-one-out", ALL);
    expect(subsets).toHaveLength(ALL.length + 2);
    expect(subsets[0]).toEqual(ALL);
    expect(subsets.at(-1)).toEqual([]);
    expect(subsets[1]).toEqual(ALL.slice(1));
  });

  it("all runs every subset, and a named list runs exactly those", () => {
    expect(matrixSubsets("all", ALL)).toHaveLength(2 ** ALL.length);
    expect(matrixSubsets("buffer.ackBeforeDurable,pusher.ackBeforeDelivery;none", ALL)).toEqual([
      ["buffer.ackBeforeDurable", "pusher.ackBeforeDelivery"],
      [],
    ]);
    expect(() => matrixSubsets("buffer.leaky", ALL)).toThrow(/"buffer.leaky" is not a flaw/);
  });

  it("names each safeguard that, restored alone, prevents the loss", () => {
    const preventing = new Set<Flaw>(["forwarder.failOpenStuck", "buffer.limitsUnconfigured"]);
    const rows = matrixSubsets("leave-one-out", ALL).map((subset) => {
      const restored = ALL.find((flaw) => !subset.includes(flaw));
      const lost =
        subset.length === 0 || (subset.length === ALL.length - 1 && preventing.has(restored!))
          ? 0
          : 40;
      return { subset, journal: journalWithLoss(lost) };
    });
    const table = formatMatrix(rows, ALL);
    expect(table).toMatch(/all flaws\s+60\.0%\s+40\.0%/);
    expect(table).toMatch(/all but forwarder\.failOpenStuck\s+100\.0%\s+0\.0%/);
    expect(table).toMatch(
      /Restored alone, each of these safeguards prevents the silent loss:\n {2}- against forwarder\.failOpenStuck: .*\n {2}- against buffer\.limitsUnconfigured:/,
    );
    expect(table).toMatch(
      /against forwarder\.failOpenStuck: silent loss 40\.0% → 0\.0%, buffer within its bound {2}← prevents the loss/,
    );
    expect(table).toMatch(
      /against pusher\.ackBeforeDelivery: silent loss 40\.0% → 40\.0%, buffer over its bound\n/,
    );
  });
});
