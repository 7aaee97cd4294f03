// Every shipped experiment matches what it declares on both profiles: on the simulator all of
// them; on real processes the incident replay in detail and the crash experiment (the other
// faults have their own process tests in test/faults). One file, so that the heavy process
// runs go one at a time (each wants both cores) while the lighter suites use the other worker.

import { describe, expect, it } from "vitest";
import { loadExperiment, shippedExperiments } from "../../harness/experiment/load.ts";
import { runOnSimulator } from "../../harness/experiment/sim-run.ts";
import type { Journal } from "../../harness/experiment/journal.ts";
import { runShipped } from "./support.ts";

function expectAsDeclared(journal: Journal): void {
  expect(journal.status, JSON.stringify(journal.notes)).toBe("completed");
  const mismatches = journal.outcomes.filter((outcome) => !outcome.matched);
  expect(
    mismatches,
    JSON.stringify(
      mismatches.map((outcome) => journal.verdict?.invariants[outcome.invariant]?.summary),
    ),
  ).toEqual([]);
  expect(journal.asExpected).toBe(true);
}

describe.each(shippedExperiments())("%s on the simulator", (name) => {
  it.each(["legacy-2024", "hardened"])(
    "matches its expectations on %s",
    { timeout: 120_000 },
    async (profile) => {
      const { journal } = await runOnSimulator(await loadExperiment(name), { profile, seed: 1 });
      expect(journal.runtime).toBe("sim");
      expectAsDeclared(journal);
    },
  );
});

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

describe("buffer-crash on processes", () => {
  it.each(["legacy-2024", "hardened"])(
    "matches its expectations on %s",
    { timeout: 180_000 },
    async (profile) => {
      expectAsDeclared(await runShipped("buffer-crash", profile));
    },
  );
});
