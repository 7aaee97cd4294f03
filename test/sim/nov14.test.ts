// The incident replay on the simulator reaches the verdict categories it reaches on processes
// (test/experiments/shipped.test.ts): legacy-2024 loses events silently and breaks the buffer
// bound; hardened holds every invariant.

import { describe, expect, it } from "vitest";
import { loadExperiment } from "../../harness/experiment/load.ts";
import { runOnSimulator } from "../../harness/experiment/sim-run.ts";

describe("nov14-2024 on the simulator", () => {
  it("legacy-2024: silent loss and the buffer bound violated, as on processes", async () => {
    const { journal, simulation } = await runOnSimulator(await loadExperiment("nov14-2024"), {
      profile: "legacy-2024",
      seed: 1,
    });
    expect(journal).toMatchObject({ status: "completed", runtime: "sim", asExpected: true });
    expect(journal.verdict?.invariants["no-silent-loss"]?.status).toBe("violated");
    expect(journal.verdict?.invariants["bounded-buffer"]?.status).toBe("violated");
    expect(journal.verdict?.incidentWindow?.silentLossShare).toBeGreaterThan(0.2);
    expect(journal.verdict?.figures.produced).toBeGreaterThanOrEqual(20_000);
    expect(simulation.elapsedMs()).toBeGreaterThanOrEqual(50_000);
    // The buffer died of its memory cap, as it does on processes, and was reset by the runbook.
    expect(journal.notes.map((note) => note.message)).toContain(
      "buffer restarted with its data wiped",
    );
  });

  it("hardened: every invariant held, nothing lost", async () => {
    const { journal } = await runOnSimulator(await loadExperiment("nov14-2024"), {
      profile: "hardened",
      seed: 1,
    });
    expect(journal).toMatchObject({ status: "completed", asExpected: true });
    for (const result of Object.values(journal.verdict!.invariants))
      expect(result.status, result.summary).toBe("held");
    expect(journal.verdict?.ledger.lost).toBe(0);
  });
});
