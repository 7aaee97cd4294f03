// Each flaw of docs/architecture.md §2, switched on alone under its triggering condition, produces
// its failure mode; with the flaw off (hardened) the safeguard prevents it.

import { afterEach, describe, expect, it } from "vitest";
import { batch, JOB_T1, TWO_JOBS } from "../support/events.ts";
import { eventually, InProcessPipeline, type InProcessOptions } from "../support/in-process.ts";

let pipeline: InProcessPipeline | undefined;
afterEach(async () => {
  await pipeline?.stopAll();
  pipeline = undefined;
});

async function started(options: InProcessOptions): Promise<InProcessPipeline> {
  pipeline = new InProcessPipeline({
    ...options,
    settings: { config: TWO_JOBS, ...options.settings },
  });
  await pipeline.startAll();
  return pipeline;
}

async function json<T>(p: InProcessPipeline, name: string, path: string): Promise<T> {
  return JSON.parse((await p.call(name, "GET", path)).body) as T;
}

async function sinkCount(p: InProcessPipeline): Promise<number> {
  const { records } = await json<{ records: Array<{ count: number }> }>(p, "sink-0", "/records");
  return records.reduce((sum, record) => sum + record.count, 0);
}

async function configVersion(p: InProcessPipeline, version: number): Promise<void> {
  await eventually(async () =>
    (await json<{ version: number }>(p, "forwarder", "/config-log")).version === version
      ? true
      : undefined,
  );
}

/** Waits until the forwarder has considered config `version` (applied or refused). */
async function considered(p: InProcessPipeline, version: number): Promise<void> {
  await eventually(async () => {
    const log = await json<{ decisions: Array<{ version: number }> }>(
      p,
      "forwarder",
      "/config-log",
    );
    return log.decisions.some((decision) => decision.version === version) ? true : undefined;
  });
}

describe("config.emptyOnNewDataset", () => {
  it("emits an empty config when a job for a never-seen dataset is added", async () => {
    const p = await started({ flaws: ["config.emptyOnNewDataset"] });
    await p.call(
      "config",
      "POST",
      "/jobs",
      JSON.stringify({ tenant: "t1", dataset: "dns", destination: "sink-0/t1.dns" }),
    );
    expect((await json<{ jobs: unknown[] }>(p, "config", "/config")).jobs).toEqual([]);
  });

  it("is masked on hardened: the forwarder refuses the empty config and keeps forwarding", async () => {
    const p = await started({ flaws: ["config.emptyOnNewDataset"] });
    await p.call(
      "config",
      "POST",
      "/jobs",
      JSON.stringify({ tenant: "t1", dataset: "dns", destination: "sink-0/t1.dns" }),
    );
    await considered(p, 2);
    const answer = JSON.parse(
      (await p.call("forwarder", "POST", "/ingest", batch("t1", "http", 0, 10))).body,
    );
    expect(answer.forwarded).toBe(10);
  });

  it("without the flaw the generator keeps every job", async () => {
    const p = await started({});
    await p.call(
      "config",
      "POST",
      "/jobs",
      JSON.stringify({ tenant: "t1", dataset: "dns", destination: "sink-0/t1.dns" }),
    );
    expect((await json<{ jobs: unknown[] }>(p, "config", "/config")).jobs).toHaveLength(3);
  });
});

describe("forwarder.appliesEmptyConfig", () => {
  it("applies a pushed empty config and filters every event as unconfigured", async () => {
    const p = await started({ flaws: ["forwarder.appliesEmptyConfig"] });
    await p.call("config", "POST", "/config/push", JSON.stringify({ kind: "empty" }));
    await configVersion(p, 2);
    const answer = JSON.parse(
      (await p.call("forwarder", "POST", "/ingest", batch("t1", "http", 0, 10))).body,
    );
    expect(answer).toMatchObject({ accepted: 10, forwarded: 0, filtered: 10 });
    const log = await json<{ decisions: Array<{ valid: boolean; applied: boolean }> }>(
      p,
      "forwarder",
      "/config-log",
    );
    expect(log.decisions.at(-1)).toMatchObject({ valid: false, applied: true });
  });

  it("hardened refuses the empty config, keeps the last good one and raises the alert", async () => {
    const p = await started({});
    await p.call("config", "POST", "/config/push", JSON.stringify({ kind: "empty" }));
    await considered(p, 2);
    const answer = JSON.parse(
      (await p.call("forwarder", "POST", "/ingest", batch("t1", "http", 0, 10))).body,
    );
    expect(answer.forwarded).toBe(10);
    const metrics = (await p.call("forwarder", "GET", "/metrics")).body;
    expect(metrics).toMatch(/forwarder_config_rejected_total\{[^}]*\} 1/);
    expect(metrics).toMatch(/forwarder_fail_static\{[^}]*\} 1/);
  });

  it("hardened also refuses a config that removes most pairs at once", async () => {
    const p = await started({
      settings: {
        config: {
          jobs: [
            JOB_T1,
            ...["t2", "t3", "t4"].map((t) => ({
              tenant: t,
              dataset: "http",
              destination: `sink-0/${t}.http`,
            })),
          ],
        },
      },
    });
    await configVersion(p, 1);
    for (const id of ["job-1", "job-2", "job-3"]) await p.call("config", "DELETE", `/jobs/${id}`);
    await considered(p, 4);
    const log = await json<{
      version: number;
      decisions: Array<{ applied: boolean; reason: string | null }>;
    }>(p, "forwarder", "/config-log");
    expect(
      log.decisions.some(
        (decision) => !decision.applied && /removes 3 of 4 pairs/.test(decision.reason ?? ""),
      ),
    ).toBe(true);
  });
});

describe("forwarder.failOpenStuck", () => {
  async function errorThenRevert(p: InProcessPipeline): Promise<void> {
    await p.call("config", "POST", "/config/push", JSON.stringify({ kind: "corrupt" }));
    // A corrupt config has no readable version: wait for the forwarder's second decision.
    await eventually(async () => {
      const log = await json<{ decisions: unknown[] }>(p, "forwarder", "/config-log");
      return log.decisions.length >= 2 ? true : undefined;
    });
    await p.call("config", "POST", "/config/revert");
    await configVersion(p, 3);
  }

  it("forwards every tenant after a config error and a good revert", async () => {
    const p = await started({ flaws: ["forwarder.failOpenStuck"] });
    await errorThenRevert(p);
    const answer = JSON.parse(
      (await p.call("forwarder", "POST", "/ingest", batch("t9-no-job", "http", 0, 10))).body,
    );
    expect((await json<{ failOpen: boolean }>(p, "forwarder", "/config-log")).failOpen).toBe(true);
    // Forwarded to the buffer, whose admission control (hardened) refuses it.
    expect(answer).toMatchObject({ accepted: 10, forwarded: 0, filtered: 10 });
    expect((await p.call("buffer", "GET", "/metrics")).body).toMatch(
      /buffer_refused_events_total\{reason="unconfigured"[^}]*\} 10/,
    );
  });

  it("hardened fails static and clears the error on the good config", async () => {
    const p = await started({});
    await errorThenRevert(p);
    await p.call("forwarder", "POST", "/ingest", batch("t9-no-job", "http", 0, 10));
    expect((await json<{ failOpen: boolean }>(p, "forwarder", "/config-log")).failOpen).toBe(false);
    expect((await p.call("buffer", "GET", "/metrics")).body).not.toMatch(
      /buffer_refused_events_total\{reason="unconfigured"/,
    );
  });
});

describe("buffer.limitsUnconfigured", () => {
  const tight = { maxBufferBytes: 20_000, maxTenantBytes: 20_000, maxBuffers: 4 };

  async function flood(p: InProcessPipeline): Promise<number[]> {
    const statuses: number[] = [];
    for (let round = 0; round < 20; round++) {
      for (const tenant of ["t1", "t2", "t5", "t6", "t7"]) {
        statuses.push(
          (await p.call("buffer", "POST", "/append", batch(tenant, "http", round * 20, 20))).status,
        );
      }
    }
    return statuses;
  }

  it("creates buffers for anyone and grows past every bound", async () => {
    pipeline = new InProcessPipeline({
      flaws: ["buffer.limitsUnconfigured"],
      limits: tight,
      settings: { config: TWO_JOBS },
    });
    await pipeline.start("config", "config");
    await pipeline.start("buffer", "buffer");
    const statuses = await flood(pipeline);
    expect(new Set(statuses)).toEqual(new Set([200]));
    const stats = await json<{
      highWaterBytes: number;
      highWaterBuffers: number;
      highWaterTenantBytes: number;
      highWaterTenant: string;
      bounds: unknown;
    }>(pipeline, "buffer", "/stats");
    expect(stats.highWaterBytes).toBeGreaterThan(tight.maxBufferBytes);
    expect(stats.highWaterBuffers).toBe(5);
    expect(stats.highWaterTenantBytes).toBeGreaterThan(tight.maxTenantBytes);
    expect(["t1", "t2", "t5", "t6", "t7"]).toContain(stats.highWaterTenant);
    expect(stats.bounds).toBeNull();
  });

  it("hardened admits only configured pairs and pushes back at the bound", async () => {
    pipeline = new InProcessPipeline({ limits: tight, settings: { config: TWO_JOBS } });
    await pipeline.start("config", "config");
    await pipeline.start("buffer", "buffer");
    const statuses = await flood(pipeline);
    expect(statuses).toContain(429);
    const stats = await json<{
      highWaterBytes: number;
      highWaterBuffers: number;
      highWaterTenantBytes: number;
    }>(pipeline, "buffer", "/stats");
    expect(stats.highWaterBytes).toBeLessThanOrEqual(tight.maxBufferBytes);
    expect(stats.highWaterBuffers).toBe(2);
    expect(stats.highWaterTenantBytes).toBeGreaterThan(0);
    expect(stats.highWaterTenantBytes).toBeLessThanOrEqual(tight.maxTenantBytes);
  });

  it("hardened holds the bound against concurrent appends waiting on the WAL together", async () => {
    // Found by `spillway explore` on hardened: appends admitted before any of them reached the
    // store all passed the check and overshot it together.
    pipeline = new InProcessPipeline({ limits: tight, settings: { config: TWO_JOBS } });
    await pipeline.start("config", "config");
    await pipeline.start("buffer", "buffer");
    const p = pipeline;
    const statuses = await Promise.all(
      Array.from({ length: 40 }, (_, round) =>
        p.call("buffer", "POST", "/append", batch("t1", "http", round * 20, 20)),
      ),
    );
    expect(statuses.map((answer) => answer.status)).toContain(429);
    const stats = await json<{ highWaterBytes: number }>(p, "buffer", "/stats");
    expect(stats.highWaterBytes).toBeLessThanOrEqual(tight.maxBufferBytes);
  });
});

describe("buffer.ackBeforeDurable", () => {
  async function appendCrashRecover(options: InProcessOptions): Promise<number> {
    pipeline = new InProcessPipeline({ ...options, settings: { config: TWO_JOBS } });
    await pipeline.start("config", "config");
    await pipeline.start("buffer", "buffer");
    expect(
      (await pipeline.call("buffer", "POST", "/append", batch("t1", "http", 0, 50))).status,
    ).toBe(200);
    await pipeline.crash("buffer");
    await pipeline.start("buffer", "buffer");
    return (await json<{ chunks: number; bytes: number }>(pipeline, "buffer", "/stats")).bytes;
  }

  it("loses acknowledged appends when the buffer crashes", async () => {
    expect(await appendCrashRecover({ flaws: ["buffer.ackBeforeDurable"] })).toBe(0);
  });

  it("hardened recovers every acknowledged append from the write-ahead log", async () => {
    expect(await appendCrashRecover({})).toBeGreaterThan(0);
  });
});

describe("forwarder.dropOnBufferTimeout", () => {
  it("answers 200 and drops the batch when the buffer hangs", async () => {
    const p = await started({ flaws: ["forwarder.dropOnBufferTimeout"] });
    p.net.set("buffer", "hang");
    const answer = await p.call("forwarder", "POST", "/ingest", batch("t1", "http", 0, 10));
    expect(answer.status).toBe(200);
    p.net.set("buffer", "up");
    expect((await json<{ highWaterBytes: number }>(p, "buffer", "/stats")).highWaterBytes).toBe(0);
  });

  it("hardened pushes back with 503 and retry-after-ms", async () => {
    const p = await started({});
    p.net.set("buffer", "hang");
    const answer = await p.call("forwarder", "POST", "/ingest", batch("t1", "http", 0, 10));
    expect(answer.status).toBe(503);
    expect(Number(answer.headers?.["retry-after-ms"])).toBeGreaterThan(0);
  });
});

describe("pusher.ackBeforeDelivery", () => {
  async function deliverThroughOutage(options: InProcessOptions): Promise<number> {
    const p = await started(options);
    await p.call("sink-0", "POST", "/fault", JSON.stringify({ mode: "error", status: 503 }));
    await p.call("forwarder", "POST", "/ingest", batch("t1", "http", 0, 25));
    // Long enough for the legacy pusher to exhaust its attempts.
    await eventually(
      async () =>
        (await json<{ bytes: number }>(p, "buffer", "/stats")).bytes === 0 ? true : undefined,
      3_000,
    ).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await p.call("sink-0", "POST", "/fault", JSON.stringify({ mode: "none" }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    return sinkCount(p);
  }

  it("acks before the sink confirms, so a failing sink loses the batch", async () => {
    expect(await deliverThroughOutage({ flaws: ["pusher.ackBeforeDelivery"] })).toBe(0);
  });

  it("hardened keeps the batch until the sink confirms, and delivers it after the outage", async () => {
    expect(await deliverThroughOutage({})).toBe(25);
  });
});
