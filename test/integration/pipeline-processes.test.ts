// The reference pipeline as real processes: a steady state on hardened delivers every
// acknowledged event of every configured tenant and nothing for the others; SIGKILL of the
// buffer, pusher or sink mid-run loses nothing acknowledged; each flaw alone, under its
// triggering condition, loses data or breaks its bound.

import { describe, expect, it } from "vitest";
import type { Limits } from "../../pipeline/core/limits.ts";
import { realClock } from "../../pipeline/host/real-seam.ts";
import {
  runSteadyState,
  type SteadyStateOptions,
  type SteadyStateReport,
} from "../../harness/experiment/steady-state.ts";
import type { ProcessTopology } from "../../harness/runtime/process/process-runtime.ts";

const FAST: Partial<Limits> = {
  configPollMs: 50,
  bufferTimeoutMs: 500,
  pushTimeoutMs: 1_000,
  leaseMs: 3_000,
  retryMaxMs: 500,
};

function run(
  overrides: Partial<SteadyStateOptions> & { limits?: Partial<Limits> } = {},
): Promise<SteadyStateReport> {
  return runSteadyState({
    profile: "hardened",
    durationMs: 3_000,
    seed: 7,
    sinks: 2,
    drainTimeoutMs: 20_000,
    ...overrides,
    limits: { ...FAST, ...overrides.limits },
    workload: {
      tenants: 12,
      jobShare: 0.5,
      eventsPerSecond: 2_000,
      batchSize: 100,
      flushIntervalMs: 50,
      maxAttempts: 20,
      ...overrides.workload,
    },
  });
}

async function post(
  topology: ProcessTopology,
  service: string,
  path: string,
  body: unknown,
): Promise<Response> {
  return fetch(`${topology.service(service).url()}${path}`, {
    method: "POST",
    body: JSON.stringify(body),
  });
}

const sleep = (ms: number) => realClock.sleep(ms);

describe("steady state on hardened processes", () => {
  it("delivers every acknowledged event of every configured tenant and nothing for tenants without jobs", async () => {
    const report = await run();
    const { totals } = report.ledger;
    expect(report.drained).toBe(true);
    expect(totals.expected).toBeGreaterThan(100);
    expect(totals.delivered).toBe(totals.expected);
    expect(totals).toMatchObject({
      lost: 0,
      misdelivered: 0,
      unexpected: 0,
      deliveredWithoutJob: 0,
    });
    expect(report.workload.acked).toBe(report.workload.produced);
  });
});

describe("SIGKILL mid-run on hardened loses no acknowledged event", () => {
  it.each(["buffer", "pusher", "sink-0"])("%s", async (service) => {
    const report = await run({
      durationMs: 4_000,
      duringRun: async (topology) => {
        await sleep(1_200);
        await topology.service(service).kill("SIGKILL");
        await sleep(500);
        await topology.service(service).restart();
      },
    });
    const { totals } = report.ledger;
    expect(report.drained).toBe(true);
    expect(totals.expected).toBeGreaterThan(100);
    expect(totals.lost).toBe(0);
    expect(totals.delivered).toBe(totals.expected);
    // Duplicates are allowed (redelivery after the crash) and counted.
    expect(totals.duplicated).toBeGreaterThanOrEqual(0);
  });
});

describe("each flaw alone, under its triggering condition, on processes", () => {
  it("config.emptyOnNewDataset: a job for a new dataset empties the published config", async () => {
    let jobsAfter: unknown[] | undefined;
    await run({
      flaws: ["config.emptyOnNewDataset"],
      durationMs: 1_500,
      duringRun: async (topology) => {
        await post(topology, "config", "/jobs", {
          tenant: "t000",
          dataset: "dns_logs",
          destination: "sink-0/t000.dns_logs",
        });
        jobsAfter = (
          (await (await fetch(`${topology.service("config").url()}/config`)).json()) as {
            jobs: unknown[];
          }
        ).jobs;
      },
    });
    expect(jobsAfter).toEqual([]);
  });

  it("forwarder.appliesEmptyConfig: an empty config makes the forwarder drop configured tenants' events silently", async () => {
    const report = await run({
      flaws: ["forwarder.appliesEmptyConfig"],
      duringRun: async (topology) => {
        await sleep(800);
        await post(topology, "config", "/config/push", { kind: "empty" });
        await sleep(1_200);
        await post(topology, "config", "/config/revert", {});
      },
    });
    expect(report.ledger.totals.lost).toBeGreaterThan(0);
  });

  it("forwarder.failOpenStuck: after a corrupt config and a revert, every tenant's events reach the buffer", async () => {
    let refusedUnconfigured = 0;
    await run({
      flaws: ["forwarder.failOpenStuck"],
      duringRun: async (topology) => {
        await sleep(500);
        await post(topology, "config", "/config/push", { kind: "corrupt" });
        await sleep(300);
        await post(topology, "config", "/config/revert", {});
        await sleep(1_500);
        const metrics = await (await fetch(`${topology.service("buffer").url()}/metrics`)).text();
        refusedUnconfigured = Number(
          /buffer_refused_events_total\{reason="unconfigured"[^}]*\} (\d+)/.exec(metrics)?.[1] ?? 0,
        );
      },
    });
    // The hardened buffer's admission control refuses them: the flaw is visible, and masked.
    expect(refusedUnconfigured).toBeGreaterThan(0);
  });

  it("buffer.limitsUnconfigured: a flood grows the buffer past its bound until the memory cap kills it", async () => {
    let killedForMemory = false;
    const report = await run({
      flaws: ["buffer.limitsUnconfigured"],
      durationMs: 6_500,
      limits: { maxBufferBytes: 2_000_000, maxTenantBytes: 2_000_000 },
      workload: { eventsPerSecond: 30_000, batchSize: 500, payloadBytes: 1024, concurrency: 16 },
      duringRun: async (topology) => {
        const buffer = topology.service("buffer");
        buffer.setMemoryCap(120);
        // The pusher stops draining, as a destination outage would make it.
        await topology.service("pusher").pause();
        const deadline = Date.now() + 6_000;
        while (Date.now() < deadline && buffer.state() !== "exited") await sleep(100);
        killedForMemory = topology
          .events()
          .some((event) => event.service === "buffer" && event.kind === "memory-cap-exceeded");
        buffer.setMemoryCap(undefined);
        await topology.service("pusher").resume();
        if (buffer.state() === "exited") await buffer.restart();
      },
    });
    // 120 MB of RSS against a 2 MB bound: the buffer outgrew what it should have held.
    expect(killedForMemory).toBe(true);
    expect(report.workload.acked).toBeGreaterThan(0);
  });

  it("buffer.ackBeforeDurable: a SIGKILLed buffer loses acknowledged events", async () => {
    const report = await run({
      flaws: ["buffer.ackBeforeDurable"],
      limits: { volatileFlushMs: 10_000 },
      duringRun: async (topology) => {
        await topology.service("pusher").pause();
        await sleep(1_500);
        await topology.service("buffer").kill("SIGKILL");
        await topology.service("buffer").restart();
        await topology.service("pusher").resume();
      },
    });
    expect(report.ledger.totals.lost).toBeGreaterThan(0);
  });

  it("forwarder.dropOnBufferTimeout: a buffer that cannot be reached makes the forwarder drop acknowledged batches", async () => {
    const report = await run({
      flaws: ["forwarder.dropOnBufferTimeout"],
      duringRun: async (topology) => {
        await sleep(800);
        // A paused buffer still takes requests into its socket queue and appends them when it
        // resumes; a dead one does not, so the forwarder's dropped batches are really gone.
        await topology.service("buffer").kill("SIGKILL");
        await sleep(1_000);
        await topology.service("buffer").restart();
      },
    });
    expect(report.ledger.totals.lost).toBeGreaterThan(0);
  });

  it("pusher.ackBeforeDelivery: a failing sink loses batches the pusher already acked", async () => {
    const report = await run({
      flaws: ["pusher.ackBeforeDelivery"],
      duringRun: async (topology) => {
        await sleep(500);
        for (const sink of ["sink-0", "sink-1"])
          await post(topology, sink, "/fault", { mode: "error", status: 503 });
        await sleep(2_000);
        for (const sink of ["sink-0", "sink-1"])
          await post(topology, sink, "/fault", { mode: "none" });
      },
    });
    expect(report.ledger.totals.lost).toBeGreaterThan(0);
  });

  it("hardened survives the same triggers without loss", async () => {
    const report = await run({
      durationMs: 4_000,
      duringRun: async (topology) => {
        await sleep(300);
        await post(topology, "config", "/config/push", { kind: "empty" });
        await sleep(300);
        await post(topology, "config", "/config/revert", {});
        await topology.service("buffer").pause();
        await sleep(800);
        await topology.service("buffer").resume();
        for (const sink of ["sink-0", "sink-1"])
          await post(topology, sink, "/fault", { mode: "error", status: 503 });
        await sleep(800);
        for (const sink of ["sink-0", "sink-1"])
          await post(topology, sink, "/fault", { mode: "none" });
      },
    });
    expect(report.ledger.totals.lost).toBe(0);
    expect(report.ledger.totals.delivered).toBe(report.ledger.totals.expected);
  });
});
