// A disk that fails under a component (pipeline/core/disk-failure.ts): the component answers 503
// naming the error and reports unhealthy, acknowledges nothing that is not durable, and lives
// on (vitest fails the file on any unhandled rejection, which is how a disk error used to kill
// the buffer). The config service persists a change before applying it.

import { afterEach, describe, expect, it } from "vitest";
import { DurableLog } from "../../pipeline/core/durable-log.ts";
import type { Disk, HttpResponse } from "../../pipeline/core/seam.ts";
import { batch, TWO_JOBS } from "../support/events.ts";
import {
  eventually,
  InProcessPipeline,
  MemoryDisk,
  type InProcessOptions,
} from "../support/in-process.ts";

let pipeline: InProcessPipeline | undefined;
afterEach(async () => {
  await pipeline?.stopAll();
  pipeline = undefined;
});

async function started(
  names: Array<"config" | "buffer" | "sink">,
  options: InProcessOptions = {},
): Promise<InProcessPipeline> {
  pipeline = new InProcessPipeline({ settings: { config: TWO_JOBS }, ...options });
  for (const name of names) await pipeline.start(name === "sink" ? "sink-0" : name, name);
  return pipeline;
}

const errorOf = (answer: HttpResponse): string =>
  (JSON.parse(answer.body) as { error: string }).error;

async function health(p: InProcessPipeline, name: string): Promise<HttpResponse> {
  return p.call(name, "GET", "/healthz");
}

async function bufferBytes(p: InProcessPipeline): Promise<number> {
  return (JSON.parse((await p.call("buffer", "GET", "/stats")).body) as { bytes: number }).bytes;
}

describe("durable log", () => {
  it("stops at the first failed sync: appends queued behind it and made after it fail too", async () => {
    const memory = new MemoryDisk();
    let syncs = 0;
    const disk: Disk = {
      append: (name, data) => memory.append(name, data),
      sync: async (name) => {
        if (syncs++ === 0) throw new Error("EIO: i/o error, fsync");
        await memory.sync(name);
      },
      read: (name) => memory.read(name),
      list: (prefix) => memory.list(prefix),
      remove: (name) => memory.remove(name),
      replace: (name, data) => memory.replace(name, data),
    };
    const log = new DurableLog(disk, "log");
    const first = log.appendDurably("a\n");
    const queued = log.appendDurably("b\n");
    await expect(first).rejects.toThrow("EIO");
    // The disk answers again, but "b" would follow a record that may be torn.
    await expect(queued).rejects.toThrow("EIO");
    await expect(log.appendDurably("c\n")).rejects.toThrow("EIO");
    expect(syncs).toBe(1);
  });
});

describe("buffer", () => {
  it("answers 503 when the write-ahead log fails, acknowledges nothing more, and reports unhealthy until restarted", async () => {
    const p = await started(["config", "buffer"]);
    expect((await p.call("buffer", "POST", "/append", batch("t1", "http", 0, 5))).status).toBe(200);
    const held = await bufferBytes(p);

    p.disks.get("buffer")!.failFrom(["sync"]);
    const refused = await p.call("buffer", "POST", "/append", batch("t1", "http", 5, 5));
    expect(refused.status).toBe(503);
    expect(errorOf(refused)).toMatch(
      /^disk failed \(append to the write-ahead log: EIO: i\/o error/,
    );
    expect(await bufferBytes(p)).toBe(held);
    const unhealthy = await health(p, "buffer");
    expect(unhealthy.status).toBe(503);
    expect(JSON.parse(unhealthy.body)).toMatchObject({
      ok: false,
      disk: expect.stringMatching(/EIO/),
    });

    // Repaired or not, a disk that failed once is not trusted again by this process.
    p.disks.get("buffer")!.repair();
    expect((await p.call("buffer", "POST", "/append", batch("t1", "http", 5, 5))).status).toBe(503);
    // What it holds can still be leased.
    const lease = await p.call("buffer", "POST", "/lease", '{"tenant":"t1","dataset":"http"}');
    expect(lease.headers?.["x-lease-count"]).toBe("5");

    await p.crash("buffer");
    await p.start("buffer", "buffer");
    expect(await bufferBytes(p)).toBe(held);
    expect((await health(p, "buffer")).status).toBe(200);
    expect((await p.call("buffer", "POST", "/append", batch("t1", "http", 5, 5))).status).toBe(200);
  });

  it("with buffer.ackBeforeDurable, a failed periodic flush makes it unhealthy instead of killing it", async () => {
    const p = await started(["config", "buffer"], {
      flaws: ["buffer.ackBeforeDurable"],
      limits: { volatileFlushMs: 10 },
    });
    p.disks.get("buffer")!.failFrom(["append", "sync"]);
    expect((await p.call("buffer", "POST", "/append", batch("t1", "http", 0, 5))).status).toBe(200);
    const unhealthy = await eventually(async () => {
      const answer = await health(p, "buffer");
      return answer.status === 503 ? answer : undefined;
    });
    expect(JSON.parse(unhealthy.body).disk).toMatch(/^flush the write-ahead log: EIO/);
    expect((await p.call("buffer", "POST", "/append", batch("t1", "http", 5, 5))).status).toBe(503);
  });

  it("a segment it cannot remove after an ack makes it unhealthy instead of killing it", async () => {
    const p = await started(["config", "buffer"], { limits: { walSegmentBytes: 1 } });
    expect((await p.call("buffer", "POST", "/append", batch("t1", "http", 0, 5))).status).toBe(200);
    const lease = await p.call("buffer", "POST", "/lease", '{"tenant":"t1","dataset":"http"}');
    p.disks.get("buffer")!.failFrom(["remove"]);
    const leaseId = Number(lease.headers?.["x-lease-id"]);
    expect((await p.call("buffer", "POST", "/ack", JSON.stringify({ leaseId }))).status).toBe(200);
    const unhealthy = await eventually(async () => {
      const answer = await health(p, "buffer");
      return answer.status === 503 ? answer : undefined;
    });
    expect(JSON.parse(unhealthy.body).disk).toMatch(/^remove wal-00000001\.log: EIO/);
  });
});

describe("sink", () => {
  it("answers 503 when its record file fails, records nothing, and reports unhealthy", async () => {
    const p = await started(["sink"]);
    expect(
      (await p.call("sink-0", "POST", "/ingest/t1.http", batch("t1", "http", 0, 3))).status,
    ).toBe(200);
    p.disks.get("sink-0")!.failFrom(["append"]);
    const refused = await p.call("sink-0", "POST", "/ingest/t1.http", batch("t1", "http", 3, 3));
    expect(refused.status).toBe(503);
    expect(errorOf(refused)).toMatch(/^disk failed \(append to records\.ndjson: EIO/);
    const records = JSON.parse((await p.call("sink-0", "GET", "/records")).body) as {
      total: number;
    };
    expect(records.total).toBe(1);
    expect((await health(p, "sink-0")).status).toBe(503);
  });
});

describe("config service", () => {
  const NEW_JOB = JSON.stringify({ tenant: "t7", dataset: "dns", destination: "sink-0/t7.dns" });

  async function snapshot(p: InProcessPipeline): Promise<string[]> {
    const paths = ["/jobs", "/config", "/timeline"];
    return Promise.all(paths.map(async (path) => (await p.call("config", "GET", path)).body));
  }

  it("leaves its state as it was and answers 503 when a change cannot be saved", async () => {
    const p = await started(["config"]);
    const before = await snapshot(p);
    p.disks.get("config")!.failFrom(["sync"]);

    const changes: Array<[string, string, string]> = [
      ["POST", "/jobs", NEW_JOB],
      ["PATCH", "/jobs/job-0", '{"enabled":false}'],
      ["DELETE", "/jobs/job-1", ""],
      ["POST", "/config/push", '{"kind":"empty"}'],
    ];
    for (const [method, path, body] of changes) {
      const answer = await p.call("config", method, path, body);
      expect(answer.status, `${method} ${path}`).toBe(503);
      expect(errorOf(answer)).toMatch(/^disk failed \(write config-state\.log: EIO/);
    }
    expect(await snapshot(p)).toEqual(before);
    expect((await health(p, "config")).status).toBe(503);
    // Bad requests are still the client's: 4xx, not 503.
    expect((await p.call("config", "PATCH", "/jobs/job-9", '{"enabled":true}')).status).toBe(404);

    p.disks.get("config")!.repair();
    await p.crash("config");
    await p.start("config", "config");
    expect(await snapshot(p)).toEqual(before);
    expect((await p.call("config", "POST", "/jobs", NEW_JOB)).status).toBe(201);
  });

  it("shows a change only once it is durable, one change at a time", async () => {
    const p = await started(["config"]);
    const [jobsBefore, configBefore] = await snapshot(p);
    const release = p.disks.get("config")!.holdSyncs();
    const first = p.call("config", "POST", "/jobs", NEW_JOB);
    const second = p.call("config", "PATCH", "/jobs/job-0", '{"enabled":false}');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const [jobsDuring, configDuring] = await snapshot(p);
    expect(jobsDuring).toBe(jobsBefore);
    expect(configDuring).toBe(configBefore);

    release();
    const versions = [await first, await second].map(
      (answer) => (JSON.parse(answer.body) as { version: number }).version,
    );
    const { version } = JSON.parse(configBefore!) as { version: number };
    expect(versions).toEqual([version + 1, version + 2]);
    const jobs = JSON.parse((await p.call("config", "GET", "/jobs")).body) as Array<{
      tenant: string;
    }>;
    expect(jobs.map((job) => job.tenant)).toContain("t7");
  });
});
