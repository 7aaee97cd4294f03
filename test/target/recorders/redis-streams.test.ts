// The Redis Streams recorder as the harness runs it, against a real redis-server: entries a
// consumer had read but not acknowledged are recorded first, entries added while the recorder is
// down and after its restart are all recorded once and acknowledged, and a Redis killed and
// restarted under it is reconnected to without the recorder crashing.

import { execa, type ResultPromise } from "execa";
import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EventId } from "../../../pipeline/core/event.ts";
import {
  deliveriesCounting,
  eventually,
  events,
  freeLoopbackPort,
  once,
  tally,
  token,
  useRecorders,
  type RunningRecorder,
} from "./support.ts";
import { useTempDir } from "../../support/temp-dir.ts";

const REDIS_SERVER = "/usr/bin/redis-server";
const available = existsSync(REDIS_SERVER);
if (!available && process.env.CI !== undefined) {
  throw new Error(`${REDIS_SERVER} is missing: install the Debian package redis-server`);
}
if (!available) console.warn(`skipping the Redis Streams recorder tests: no ${REDIS_SERVER}`);

const STREAM = "spillway-egress";
const GROUP = "recorders";
const CONSUMER = "recorder-a";
const READY_WAIT_MS = 10_000;

const recorders = useRecorders();

/** A redis-server of its own on a free port, without persistence; restartable on that port. */
function useRedisServer(): {
  port(): number;
  start(): Promise<void>;
  kill(): Promise<void>;
} {
  const dir = useTempDir("spillway-redis-");
  let port = 0;
  let server: ResultPromise | undefined;
  const kill = async () => {
    server?.kill("SIGKILL");
    await server;
    server = undefined;
  };
  afterAll(async () => {
    await kill();
  });
  return {
    port: () => port,
    async start() {
      if (port === 0) port = await freeLoopbackPort();
      const args = [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
      ];
      server = execa(REDIS_SERVER, [...args, "--dir", dir], { reject: false, stdio: "ignore" });
      const deadline = Date.now() + READY_WAIT_MS;
      for (;;) {
        const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => null });
        probe.on("error", () => {});
        try {
          await probe.connect();
          await probe.ping();
          return;
        } catch (error) {
          if (Date.now() > deadline)
            throw new Error(`redis-server did not answer: ${String(error)}`, { cause: error });
          await sleep(20);
        } finally {
          probe.disconnect();
        }
      }
    },
    kill,
  };
}

describe.skipIf(!available)("redis-streams recorder", () => {
  const redisServer = useRedisServer();
  let client: Redis;
  let recorder: RunningRecorder;

  beforeAll(async () => {
    await redisServer.start();
    client = new Redis({ port: redisServer.port(), maxRetriesPerRequest: 1 });
    client.on("error", () => {});
  });
  afterAll(() => client?.disconnect());

  async function add(ids: readonly EventId[]): Promise<void> {
    for (const id of ids) await client.xadd(STREAM, "*", "message", `relayed ${token(id)}`);
  }

  async function pendingCount(): Promise<number> {
    const [count] = (await client.xpending(STREAM, GROUP)) as [number];
    return count;
  }

  async function startRecorder(): Promise<RunningRecorder> {
    return recorders.start(
      {
        kind: "redis-streams",
        redis: `127.0.0.1:${redisServer.port()}`,
        stream: STREAM,
        group: GROUP,
        consumer: CONSUMER,
      },
      "redis-recorder",
    );
  }

  const stream = { tenant: "t1", dataset: "redis", producer: "p1" };
  const ids = events(40, stream);

  it("records entries read before but never acknowledged, then new ones, and acknowledges all", async () => {
    await client.xgroup("CREATE", STREAM, GROUP, "0", "MKSTREAM");
    await add(ids.slice(0, 5));
    // A consumer of the same name read these and died before XACK: they are pending for it.
    await client.xreadgroup("GROUP", GROUP, CONSUMER, "STREAMS", STREAM, ">");
    expect(await pendingCount()).toBe(5);
    await add(ids.slice(5, 10));
    recorder = await startRecorder();
    const { whole } = tally(await deliveriesCounting(recorder, { whole: 10 }));
    expect(whole).toEqual(once(ids.slice(0, 10)));
    expect(await eventually(pendingCount, (count) => count === 0)).toBe(0);
  });

  it("records entries added while it was down and after its restart, once each", async () => {
    await recorder.service.kill("SIGKILL");
    await add(ids.slice(10, 20));
    await recorder.service.start();
    await add(ids.slice(20, 30));
    const { whole } = tally(await deliveriesCounting(recorder, { whole: 30 }));
    expect(whole).toEqual(once(ids.slice(0, 30)));
    expect(await eventually(pendingCount, (count) => count === 0)).toBe(0);
  });

  it("keeps running through a Redis kill and restart, and records what comes after", async () => {
    const pid = recorder.service.pid();
    await redisServer.kill();
    await redisServer.start();
    // Without persistence the stream and its group are gone; the recorder makes the group again.
    await add(ids.slice(30));
    const { whole } = tally(await deliveriesCounting(recorder, { whole: 40 }));
    expect(whole).toEqual(once(ids));
    expect(recorder.service.pid()).toBe(pid);
    expect(recorder.service.state()).toBe("running");
    expect(await eventually(pendingCount, (count) => count === 0)).toBe(0);
  });
});
