// The ledger's verdict on containers: one experiment with every process fault and a network
// fault through the host's fault proxy, on hardened: every fault injected and healed, nothing
// lost, and bounded-buffer reporting the memory cap's kill. (That legacy-2024 loses events
// silently on containers is the nov14 test's business; one profile here keeps the suite short.)

import { expect, it } from "vitest";
import { parseExperiment } from "../../harness/experiment/definition.ts";
import { checkExperiment } from "../../harness/experiment/load.ts";
import { runExperiment } from "../../harness/experiment/runner.ts";
import { containerRuntime } from "../../harness/runtime/container/container-runtime.ts";
import { describeContainers } from "./support.ts";

const everyFault = checkExperiment(
  parseExperiment(
    {
      name: "container-faults",
      description: "pause, link down, SIGKILL, restart and a memory cap on containers",
      topology: { sinks: 1, limits: { configPollMs: 100, bufferTimeoutMs: 1_000 } },
      workload: {
        tenants: 4,
        jobShare: 0.5,
        eventsPerSecond: 2_000,
        batchSize: 100,
        maxAttempts: 40,
        maxRetryAfterMs: 1_000,
      },
      duration: "13s",
      warmup: "2s",
      method: [
        { at: "2s", for: "2s", fault: { kind: "process.pause", service: "sink-0" } },
        { at: "3s", for: "2s", fault: { kind: "network.down", link: "forwarder->buffer" } },
        { at: "6s", for: "1s", fault: { kind: "process.kill", service: "buffer" } },
        { at: "8s", fault: { kind: "process.restart", service: "pusher" } },
        {
          at: "9s",
          for: "1s",
          fault: { kind: "process.memory-cap", service: "buffer", megabytes: 10 },
        },
      ],
      expect: {
        // The cap kills the buffer on either profile: bounded-buffer reports it.
        "legacy-2024": { "no-silent-loss": "violated", "bounded-buffer": "violated" },
        hardened: { "bounded-buffer": "violated" },
      },
    },
    "container-faults",
  ),
  "container-faults",
);

describeContainers("the ledger's verdict on containers", () => {
  it(
    "hardened: every fault injected and healed, nothing lost, the memory cap reported",
    { timeout: 180_000 },
    async () => {
      const journal = await runExperiment(everyFault, {
        profile: "hardened",
        seed: 1,
        runtime: containerRuntime(),
      });
      expect(journal.status, journal.error ?? JSON.stringify(journal.notes)).toBe("completed");
      const notes = journal.notes.map((entry) => entry.message);
      for (const expected of [
        "sink-0 paused",
        "buffer killed with SIGKILL",
        "pusher restarted",
        "buffer capped at 10 MB",
      ]) {
        expect(
          notes.some((note) => note.startsWith(expected)),
          notes.join("\n"),
        ).toBe(true);
      }
      expect(journal.verdict!.ledger.lost).toBe(0);
      expect(journal.verdict!.invariants["bounded-buffer"]?.summary).toMatch(/10 MB cap/);
      expect(journal.asExpected, JSON.stringify(journal.verdict?.invariants)).toBe(true);
    },
  );
});
