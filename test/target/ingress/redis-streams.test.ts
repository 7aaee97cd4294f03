// The Redis Streams ingress against real redis-server processes, each on a free port with no
// persistence, in a temp dir of its own; every one is killed and its dir removed, also on failure.

import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { scanTokens, type ScannedEvents } from "../../../harness/target/identity.ts";
import type { Ingress } from "../../../harness/target/ingress/ingress.ts";
import {
  redisStreamsIngress,
  type RedisStreamsIngressOptions,
} from "../../../harness/target/ingress/redis-streams.ts";
import type { BatchResult } from "../../../harness/workload/send-batch.ts";
import { expectEachOnce, freePort, idsOf, twoStreams } from "./support.ts";

const REDIS_SERVER = "/usr/bin/redis-server";
const PAYLOAD_CHARS = 200;
// On CI a missing redis-server fails the suite; elsewhere the file is skipped and says why.
const present = existsSync(REDIS_SERVER) || process.env.CI !== undefined;
const title = present
  ? "redis-streams ingress"
  : `redis-streams ingress (skipped: no ${REDIS_SERVER}; install the Debian package redis-server)`;

interface RedisServer {
  port: number;
  process: ChildProcess;
  dir: string;
}

const servers: RedisServer[] = [];
const clients: Redis[] = [];
const opened: Ingress[] = [];

async function startRedis(): Promise<RedisServer> {
  if (!existsSync(REDIS_SERVER)) {
    throw new Error(
      `${REDIS_SERVER} is missing on CI: .ci/run should install the package redis-server`,
    );
  }
  const dir = await mkdtemp(path.join(tmpdir(), "spillway-ingress-redis-"));
  const port = await freePort();
  const child = spawn(
    REDIS_SERVER,
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { cwd: dir, stdio: ["ignore", "pipe", "pipe"] },
  );
  const server = { port, process: child, dir };
  servers.push(server);
  let output = "";
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      output += chunk.toString("utf8");
      if (output.includes("Ready to accept connections")) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.once("error", reject);
    child.once("exit", (code) => reject(new Error(`redis-server exited (${code}):\n${output}`)));
  });
  return server;
}

async function stopRedis(server: RedisServer): Promise<void> {
  if (server.process.exitCode === null && server.process.signalCode === null) {
    const exited = once(server.process, "exit");
    server.process.kill("SIGKILL");
    await exited;
  }
  await rm(server.dir, { recursive: true, force: true });
}

function reader(server: RedisServer): Redis {
  const client = new Redis({ host: "127.0.0.1", port: server.port, lazyConnect: true });
  clients.push(client);
  return client;
}

function open(server: RedisServer, options: Partial<RedisStreamsIngressOptions>): Ingress {
  const ingress = redisStreamsIngress({
    host: "127.0.0.1",
    port: server.port,
    stream: "events",
    payloadChars: PAYLOAD_CHARS,
    requestTimeoutMs: 2_000,
    retryBaseMs: 10,
    retryMaxMs: 50,
    ...options,
  });
  opened.push(ingress);
  return ingress;
}

afterEach(async () => {
  await Promise.all(opened.splice(0).map((ingress) => ingress.close()));
  for (const client of clients.splice(0)) client.disconnect();
});

afterAll(async () => {
  await Promise.all(servers.splice(0).map(stopRedis));
});

describe.runIf(present)(title, () => {
  let shared: RedisServer;
  beforeAll(async () => {
    shared = await startRedis();
  });

  it("adds each event of a batch as one entry, its token in field m", async () => {
    const ingress = open(shared, { stream: "landed" });
    const batches = [twoStreams(50), twoStreams(30, 50)];
    for (const batch of batches) {
      expect(await ingress.send(batch)).toMatchObject({ outcome: "acked", attempts: 1 });
    }
    const redis = reader(shared);
    expect(await redis.xlen("landed")).toBe(160);
    const scanned: ScannedEvents = { events: [], corrupt: [] };
    for (const [, fields] of await redis.xrange("landed", "-", "+")) {
      const entry = Object.fromEntries(
        fields.flatMap((value, index) => (index % 2 === 0 ? [[value, fields[index + 1]]] : [])),
      ) as Record<string, string>;
      scanTokens(entry.m!, scanned);
      const id = scanned.events.at(-1)!;
      expect(entry).toMatchObject({
        tenant: id.tenant,
        dataset: id.dataset,
        producer: id.producer,
        seq: String(id.seq),
      });
    }
    expect(scanned.corrupt).toEqual([]);
    expectEachOnce(scanned.events, idsOf(...batches));
  });

  it("trims the stream to maxlen at each XADD", async () => {
    const ingress = open(shared, { stream: "trimmed", maxlen: 25 });
    expect((await ingress.send(twoStreams(20))).outcome).toBe("acked");
    expect(await reader(shared).xlen("trimmed")).toBe(25);
  });

  it("rejects whole batches once maxmemory with noeviction refuses writes", async () => {
    const redis = reader(shared);
    const used = /used_memory:(\d+)/.exec(await redis.info("memory"))![1]!;
    await redis.config("SET", "maxmemory-policy", "noeviction");
    await redis.config("SET", "maxmemory", String(Number(used) + 1024 * 1024));
    try {
      const ingress = open(shared, { stream: "filled" });
      const results: BatchResult[] = [];
      let seqFrom = 0;
      // About 110 kB a batch: 1 MB of room is full within a few dozen.
      while (results.length < 100 && results.at(-1)?.outcome !== "rejected") {
        results.push(await ingress.send(twoStreams(200, seqFrom)));
        seqFrom += 200;
      }
      const outcomes = results.map((result) => result.outcome);
      const acked = outcomes.filter((outcome) => outcome === "acked").length;
      expect(acked).toBeGreaterThan(0);
      expect(outcomes).toEqual([...Array(acked).fill("acked"), "rejected"]);
      expect(results.at(-1)!.detail).toMatch(/OOM/);
      // All or nothing: the refused batch added no entry.
      expect(await redis.xlen("filled")).toBe(acked * 400);
    } finally {
      await redis.config("SET", "maxmemory", "0");
    }
  });

  it("settles batches in flight when redis is killed as unknown, and later ones as rejected", async () => {
    const server = await startRedis();
    const ingress = open(server, { requestTimeoutMs: 200 });
    expect((await ingress.send(twoStreams(5))).outcome).toBe("acked");
    // Stopped, redis cannot answer: the batches go out and wait until it dies.
    server.process.kill("SIGSTOP");
    const inFlight = [0, 1, 2].map((index) => ingress.send(twoStreams(100, 5 + 100 * index)));
    // Each send writes its MULTI … EXEC within microtasks: all have gone out before this.
    await new Promise((resolve) => setImmediate(resolve));
    server.process.kill("SIGKILL");
    const results = await Promise.all(inFlight);
    expect(results.map((result) => result.outcome)).toEqual(["unknown", "unknown", "unknown"]);
    const after = await ingress.send(twoStreams(5, 305));
    expect(after).toMatchObject({ outcome: "rejected", lastFailure: "refused" });
    expect(after.detail).toMatch(/nothing was sent/);
  });

  it("settles a batch that gets no answer in time as unknown, and keeps the connection", async () => {
    const server = await startRedis();
    const ingress = open(server, { stream: "paused", requestTimeoutMs: 200 });
    expect((await ingress.send(twoStreams(5))).outcome).toBe("acked");
    server.process.kill("SIGSTOP");
    const late = await ingress.send(twoStreams(5, 5));
    server.process.kill("SIGCONT");
    expect(late).toMatchObject({ outcome: "unknown", lastFailure: "timeout" });
    expect((await ingress.send(twoStreams(5, 10))).outcome).toBe("acked");
    // The late batch was written before the pause: Redis added it once it ran again.
    expect(await reader(server).xlen("paused")).toBe(30);
  });
});
