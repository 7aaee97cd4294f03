// The counterfactual table: which subsets run, and which single safeguard prevents the loss.

import { describe, expect, it } from "vitest";
import { PROFILES, type Flaw } from "../../pipeline/core/flaws.ts";
import type { Journal } from "../../harness/experiment/journal.ts";
import { formatMatrix, matrixSubsets } from "../../harness/report/matrix.ts";

const ALL = PROFILES["legacy-2024"];

function journalWithLoss(lost: number, status: Journal["status"] = "completed"): Journal {
  return {
    status,
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
    expect(matrixSubsets("none;all", ALL)).toEqual([[], ALL]);
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

  /** Leave-one-out rows: 40% lost with all flaws on, 0 where `restoredAlone` is restored. */
  function leaveOneOut(
    restoredAlone: Flaw,
    status: (restored: Flaw | undefined) => Journal["status"],
  ) {
    return matrixSubsets("leave-one-out", ALL).map((subset) => {
      const restored =
        subset.length === ALL.length - 1 ? ALL.find((flaw) => !subset.includes(flaw)) : undefined;
      const lost = subset.length === 0 || restored === restoredAlone ? 0 : 40;
      return { subset, journal: journalWithLoss(lost, status(restored)) };
    });
  }

  it("never credits an aborted run (no fault injected) with preventing the loss, and says why", () => {
    const rows = leaveOneOut("forwarder.failOpenStuck", (restored) =>
      restored === "buffer.ackBeforeDurable" ? "aborted" : "completed",
    );
    // The aborted run lost nothing: it never injected its faults.
    rows.find((row) => row.journal.status === "aborted")!.journal.verdict!.ledger.lost = 0;
    const table = formatMatrix(rows, ALL);
    expect(table).toMatch(
      /all but buffer\.ackBeforeDurable +- +- +- +- +aborted: the steady state did not hold, no fault was injected/,
    );
    expect(table).toContain(
      "  - against buffer.ackBeforeDurable: not judged, its run aborted: the steady state did not hold, no fault was injected",
    );
    expect(table).not.toMatch(/against buffer\.ackBeforeDurable: silent loss/);
    const credited = table.split("Restored alone, each of these safeguards prevents")[1]!;
    expect(credited).toContain("forwarder.failOpenStuck");
    expect(credited).not.toContain("buffer.ackBeforeDurable");
  });

  it("shows a failed row as failed, without figures, and credits nothing when no completed run prevents the loss", () => {
    const rows = leaveOneOut("pusher.ackBeforeDelivery", (restored) =>
      restored === "pusher.ackBeforeDelivery" ? "failed" : "completed",
    );
    const table = formatMatrix(rows, ALL);
    expect(table).toMatch(/all but pusher\.ackBeforeDelivery +- +- +- +- +failed/);
    expect(table).toContain(
      "No single safeguard, restored alone, prevents the silent loss (of those whose run completed).",
    );
    expect(table).not.toContain("← prevents the loss");
  });

  it("credits nothing when the run with all flaws on did not complete", () => {
    const rows = leaveOneOut("forwarder.failOpenStuck", (restored) =>
      restored === undefined ? "aborted" : "completed",
    );
    const table = formatMatrix(rows, ALL);
    expect(table).toContain(
      "The run with all flaws on aborted: the steady state did not hold, no fault was injected: no safeguard is credited.",
    );
    expect(table).not.toContain("Each safeguard restored alone");
  });

  it("does not credit a safeguard whose run left no-silent-loss unknown", () => {
    const rows = leaveOneOut("forwarder.failOpenStuck", () => "completed");
    const doubtful = rows.find(
      (row) =>
        row.subset.length === ALL.length - 1 && !row.subset.includes("forwarder.failOpenStuck"),
    )!;
    doubtful.journal.verdict!.invariants["no-silent-loss"] = {
      name: "no-silent-loss",
      status: "unknown",
      summary: "too many indeterminate events",
      evidence: {},
    };
    const table = formatMatrix(rows, ALL);
    expect(table).toMatch(
      /against forwarder\.failOpenStuck: silent loss 40\.0% → 0\.0% \(no-silent-loss unknown\)/,
    );
    expect(table).toContain("No single safeguard, restored alone, prevents the silent loss.");
  });
});
