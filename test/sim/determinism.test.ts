// One seed, one run: the simulator replays an experiment byte for byte — every request, every
// timer that matters, every fault — and another seed gives another run.

import { describe, expect, it } from "vitest";
import { parseExperiment } from "../../harness/experiment/definition.ts";
import { runOnSimulator } from "../../harness/experiment/sim-run.ts";

const experiment = parseExperiment(
  {
    name: "sim-determinism",
    description: "faults of every family with random elements: jitter, toxicity, retries",
    topology: { sinks: 2, proxies: true, limits: { configPollMs: 100, bufferTimeoutMs: 500 } },
    workload: { tenants: 8, jobShare: 0.5, eventsPerSecond: 400, batchSize: 20, payloadBytes: 32 },
    duration: "12s",
    warmup: "1s",
    method: [
      {
        at: "1s",
        for: "2s",
        fault: { kind: "network.latency", link: "pusher->sink-0", latency: 50, jitter: 40 },
      },
      {
        at: "2s",
        for: "2s",
        fault: { kind: "network.reset_peer", link: "forwarder->buffer", toxicity: 0.3 },
      },
      { at: "3s", for: "1s", fault: { kind: "process.kill", service: "buffer" } },
      { at: "5s", fault: { kind: "config.add-job", dataset: "dns_logs" } },
      { at: "6s", for: "2s", fault: { kind: "sink.error", sink: "sink-1" } },
      { at: "7s", for: "1s", fault: { kind: "process.pause", service: "pusher" } },
    ],
  },
  "test",
);

async function run(seed: number) {
  const { journal, simulation } = await runOnSimulator(experiment, {
    profile: "hardened",
    seed,
    trace: true,
  });
  return { journal: JSON.stringify(journal), trace: simulation.trace() };
}

describe("the simulator is deterministic", () => {
  it("gives a byte-identical trace and journal for the same seed, and another run for another seed", async () => {
    const first = await run(7);
    const second = await run(7);
    const other = await run(8);
    expect(first.trace.length).toBeGreaterThan(2_000);
    // Compared as a whole; on a mismatch, show the first line that differs.
    const firstDiff = first.trace.findIndex((line, index) => second.trace[index] !== line);
    expect(firstDiff === -1 ? null : [first.trace[firstDiff], second.trace[firstDiff]]).toBeNull();
    expect(second.trace).toEqual(first.trace);
    expect(second.journal).toBe(first.journal);
    expect(other.trace).not.toEqual(first.trace);
    const journal = JSON.parse(first.journal) as {
      status: string;
      runtime: string;
      verdict: { figures: { produced: number } };
    };
    expect(journal).toMatchObject({ status: "completed", runtime: "sim" });
    expect(journal.verdict.figures.produced).toBeGreaterThan(4_000);
    // The faults really happened: the trace shows the crash, the restart and the toxics.
    expect(first.trace.some((line) => /buffer exit requested SIGKILL/.test(line))).toBe(true);
    expect(first.trace.some((line) => /toxic \+ forwarder->buffer reset_peer/.test(line))).toBe(
      true,
    );
  });
});
