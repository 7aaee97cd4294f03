// The steady-state hypothesis after the faults includes acceptance: healthy services that push
// back on most of the offered load have not returned to the steady state.

import { describe, expect, it } from "vitest";
import { parseExperiment } from "../../harness/experiment/definition.ts";
import { runOnSimulator } from "../../harness/experiment/sim-run.ts";

function experimentWithBrokenSinkAfter(acceptanceShareMin: number) {
  return parseExperiment(
    {
      name: "pushes-back-after",
      description: "every sink keeps failing after the method, so the buffer fills and pushes back",
      topology: {
        sinks: 1,
        limits: { maxBufferBytes: 16_384, maxTenantBytes: 16_384, configPollMs: 100 },
      },
      workload: { tenants: 4, jobShare: 1, eventsPerSecond: 400, batchSize: 20 },
      duration: "6s",
      warmup: "1s",
      steadyState: { timeout: "6s", acceptanceShareMin },
      method: [{ at: "1s", for: "1s", fault: { kind: "sink.slow", sink: "sink-0", delayMs: 10 } }],
      rollbacks: [{ kind: "sink.error", sink: "sink-0", status: 503 }],
      drain: { timeout: "3s" },
      invariants: ["no-silent-loss"],
    },
    "pushes-back-after",
  );
}

describe("the steady-state hypothesis after the faults", () => {
  it("does not hold when the pipeline is healthy but accepts too little of the offered load", async () => {
    const { journal } = await runOnSimulator(experimentWithBrokenSinkAfter(0.9), {
      profile: "hardened",
      seed: 2,
    });
    expect(journal.deviated).toBe(true);
    const note = journal.notes.find((entry) => entry.message.includes("hypothesis after"));
    expect(note?.message).toMatch(/offered events acknowledged .*below 90%/);
  });

  it("holds on the same run when no acceptance is asked for", async () => {
    const { journal } = await runOnSimulator(experimentWithBrokenSinkAfter(0), {
      profile: "hardened",
      seed: 2,
    });
    expect(journal.deviated).toBe(false);
  });
});
