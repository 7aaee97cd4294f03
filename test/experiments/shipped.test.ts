// Every shipped experiment on real processes, on both profiles, matches what it declares; the
// incident replay in detail. One file, so that these heavy runs go one at a time (each wants
// both cores) while the lighter suites use the other worker.

import { describe, expect, it } from "vitest";
import { runShipped } from "./support.ts";

describe("nov14-2024 on processes", () => {
  it(
    "legacy-2024 violates no-silent-loss and bounded-buffer, and reports the silent-loss share",
    { timeout: 300_000 },
    async () => {
      const journal = await runShipped("nov14-2024", "legacy-2024");
      expect(journal.status, JSON.stringify(journal.notes)).toBe("completed");
      expect(journal.verdict?.invariants["no-silent-loss"]?.status).toBe("violated");
      expect(journal.verdict?.invariants["bounded-buffer"]?.status).toBe("violated");
      expect(journal.verdict?.incidentWindow?.silentLossShare).toBeGreaterThan(0.2);
      expect(journal.verdict?.ledger.lost).toBeGreaterThan(0);
    },
  );

  it(
    "hardened holds every invariant, loses nothing and stays within its buffer bound",
    { timeout: 300_000 },
    async () => {
      const journal = await runShipped("nov14-2024", "hardened");
      expect(journal.status, JSON.stringify(journal.notes)).toBe("completed");
      for (const result of Object.values(journal.verdict!.invariants))
        expect(result.status, result.summary).toBe("held");
      expect(journal.verdict?.ledger.lost).toBe(0);
      expect(journal.verdict!.figures.bufferHighWaterBytes).toBeLessThanOrEqual(
        journal.verdict!.figures.bufferBoundBytes,
      );
      expect(journal.asExpected).toBe(true);
    },
  );
});

const EXPERIMENTS = [
  "buffer-crash",
  "sink-outage",
  "sink-slowdown",
  "network-partition",
  "tenant-flood",
  "config-flap",
];

describe.each(EXPERIMENTS)("%s", (name) => {
  it.each(["legacy-2024", "hardened"])(
    "matches its expectations on %s",
    { timeout: 180_000 },
    async (profile) => {
      const journal = await runShipped(name, profile);
      expect(journal.status, JSON.stringify(journal.notes)).toBe("completed");
      const mismatches = journal.outcomes.filter((outcome) => !outcome.matched);
      expect(
        mismatches,
        JSON.stringify(
          mismatches.map((outcome) => journal.verdict?.invariants[outcome.invariant]?.summary),
        ),
      ).toEqual([]);
      expect(journal.asExpected).toBe(true);
    },
  );
});
