// The Redis Streams recorder (docs/targets.md, "Egress"): one consumer of a consumer group,
// reading with XREADGROUP and acknowledging with XACK only after what it read is durable, so a
// recorder killed between the two reads those entries again (a duplicate, never a loss). Every
// session, a restart's first and each reconnection's, reads this consumer's pending entries (id 0)
// before new ones (>). Redis may be killed, restarted or paused under it: any failure ends the
// session, and the next one starts after a bounded backoff; it never crashes the recorder.

import { Redis } from "ioredis";
import { Counter } from "prom-client";
import { setTimeout as sleep } from "node:timers/promises";
import { scanTokens } from "../identity.ts";
import { emptyArrivals } from "./record-log.ts";
import type { Receiver, ReceiverContext } from "./receiver.ts";

export interface RedisStreamsLimits {
  /** Most entries one XREADGROUP returns. */
  readCount: number;
  /** How long one XREADGROUP waits for new entries. */
  blockMs: number;
  /** A connection, or a command beyond its own wait, taking longer than this ends the session. */
  connectTimeoutMs: number;
  commandTimeoutMs: number;
  /** Backoff between sessions: doubling from the base, capped. */
  retryBaseMs: number;
  retryMaxMs: number;
}

export const DEFAULT_REDIS_STREAMS_LIMITS: Readonly<RedisStreamsLimits> = Object.freeze({
  readCount: 1_000,
  blockMs: 1_000,
  connectTimeoutMs: 2_000,
  commandTimeoutMs: 5_000,
  retryBaseMs: 50,
  retryMaxMs: 1_000,
});

export interface RedisStreamsOptions {
  host: string;
  port: number;
  stream: string;
  group: string;
  consumer: string;
  limits?: RedisStreamsLimits;
}

/** One entry as XREADGROUP returns it; a pending entry deleted since has no fields. */
type StreamEntry = [id: string, fields: string[] | null];

/** The entries of an XREADGROUP answer for one stream (`[[stream, entries]]`, or null). */
function entriesOf(answer: unknown): StreamEntry[] {
  if (!Array.isArray(answer) || answer.length === 0) return [];
  const [, entries] = answer[0] as [unknown, unknown];
  return Array.isArray(entries) ? (entries as StreamEntry[]) : [];
}

function isBusyGroup(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith("BUSYGROUP");
}

export function redisStreamsReceiver(
  context: ReceiverContext,
  options: RedisStreamsOptions,
): Receiver {
  const { records, log } = context;
  const limits = options.limits ?? DEFAULT_REDIS_STREAMS_LIMITS;
  const { stream, group, consumer } = options;
  const acked = new Counter({
    name: "recorder_redis_acked_entries_total",
    help: "Stream entries acknowledged (XACK) after what they carried was recorded",
    registers: [context.metrics],
  });
  const stopping = new AbortController();
  let client: Redis | undefined;
  let connected = false;
  let consuming: Promise<void> | undefined;

  async function read(redis: Redis, from: string): Promise<StreamEntry[]> {
    const block = from === ">" ? ["BLOCK", String(limits.blockMs)] : [];
    const answer = await redis.call(
      "XREADGROUP",
      ...["GROUP", group, consumer, "COUNT", String(limits.readCount), ...block],
      ...["STREAMS", stream, from],
    );
    return entriesOf(answer);
  }

  async function recordThenAck(redis: Redis, entries: readonly StreamEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const arrivals = emptyArrivals();
    for (const [, fields] of entries) {
      for (let index = 1; index < (fields?.length ?? 0); index += 2) {
        scanTokens(fields![index]!, arrivals);
      }
    }
    await records.add(arrivals);
    await redis.call("XACK", stream, group, ...entries.map(([id]) => id));
    acked.inc(entries.length);
  }

  async function session(redis: Redis): Promise<void> {
    await redis.connect();
    try {
      await redis.call("XGROUP", "CREATE", stream, group, "0", "MKSTREAM");
    } catch (error) {
      if (!isBusyGroup(error)) throw error;
    }
    if (!connected) log.info("consuming", { stream, group, consumer });
    connected = true;
    // What was read before a crash or a lost connection, but not acknowledged, comes first.
    for (let after = "0"; ;) {
      const pending = await read(redis, after);
      if (pending.length === 0) break;
      await recordThenAck(redis, pending);
      after = pending[pending.length - 1]![0];
    }
    while (!stopping.signal.aborted) await recordThenAck(redis, await read(redis, ">"));
  }

  async function consume(): Promise<void> {
    let backoffMs = limits.retryBaseMs;
    while (!stopping.signal.aborted) {
      const redis = new Redis({
        host: options.host,
        port: options.port,
        lazyConnect: true,
        // Sessions reconnect, not the client: a new session reads its pending entries first.
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
        enableOfflineQueue: false,
        autoResendUnfulfilledCommands: false,
        connectTimeout: limits.connectTimeoutMs,
        commandTimeout: limits.blockMs + limits.commandTimeoutMs,
      });
      // Failures reach the session through its commands; the event would otherwise crash.
      redis.on("error", () => {});
      client = redis;
      const started = Date.now();
      try {
        await session(redis);
      } catch (error) {
        if (stopping.signal.aborted) break;
        if (connected) log.warn("redis session ended", { error: String(error) });
        connected = false;
      } finally {
        redis.disconnect();
      }
      // A session that ran a while was healthy: start the backoff over.
      if (Date.now() - started > limits.retryMaxMs) backoffMs = limits.retryBaseMs;
      await sleep(backoffMs, undefined, { signal: stopping.signal }).catch(() => {});
      backoffMs = Math.min(backoffMs * 2, limits.retryMaxMs);
    }
  }

  return {
    async start() {
      consuming = consume();
    },
    async close() {
      stopping.abort();
      client?.disconnect();
      await consuming;
      await records.settled();
    },
    health: () => ({ redis: connected ? "connected" : "reconnecting", stream, group, consumer }),
  };
}
