// Redis Streams ingress (docs/targets.md, "Ingress"): each batch is one MULTI … EXEC of one XADD
// per event (field `m` the event's identity token, beside tenant, dataset, producer and seq), so
// Redis takes all of a batch's entries or none:
//
//   EXEC answered with an entry id for every XADD         → acked
//   an error reply (OOM under maxmemory with noeviction, EXECABORT), or no connection within
//   requestTimeoutMs: nothing was written                  → rejected (the producer was told)
//   the connection lost or the command timed out after the batch went out, or EXEC's replies
//   mixed ids and errors                                   → unknown
//
// ioredis is set up to fail rather than wait: no offline queue, no resending after a reconnect,
// a connect and a command timeout; it reconnects in the background with a bounded backoff.

import { Redis, ReplyError } from "ioredis";
import { backoffMs } from "../../../pipeline/core/limits.ts";
import type { Log, NetFailure, Rng, Timer } from "../../../pipeline/core/seam.ts";
import { realClock, realRng } from "../../../pipeline/host/real-seam.ts";
import type { Batch } from "../../workload/batch.ts";
import type { BatchResult } from "../../workload/send-batch.ts";
import { encodeToken } from "../identity.ts";
import type { Ingress } from "./ingress.ts";
import {
  backoffLimits,
  checkPayloadChars,
  closedResult,
  eventIds,
  noLog,
  resolveSendingOptions,
  settled,
  type SendingOptions,
} from "./sending.ts";

export const REDIS_STREAMS_ACKNOWLEDGEMENT =
  "XADD answered with an entry id (inside MULTI/EXEC, all the batch's entries or none)";
export const REDIS_STREAM_DEFAULT = "spillway";
/** Most characters in a stream's key (Redis allows more; a key this long is a mistake). */
export const REDIS_STREAM_CHARS_MAX = 256;

/** What ioredis says when a command is refused before being written (no offline queue). */
const NOT_WRITTEN_MESSAGE = "Stream isn't writeable and enableOfflineQueue options is false";
const TIMED_OUT_MESSAGE = "Command timed out";
const ENTRY_ID_PATTERN = /^\d+-\d+$/;

export interface RedisStreamsIngressOptions extends Partial<SendingOptions> {
  host: string;
  port: number;
  /** Key of the stream the entries are added to. */
  stream: string;
  /** Trims the stream to this many entries at each XADD (exact MAXLEN); default: no trimming. */
  maxlen?: number;
  /** Length of the payload in each event's token (docs/targets.md, "Identity"). */
  payloadChars: number;
  rng?: Rng;
  log?: Log;
}

interface ReadyWaiter {
  timer: Timer;
  resolve(ready: boolean): void;
}

/**
 * Sending a batch: a connection is awaited for `requestTimeoutMs` at most (connect timeout too),
 * each command is answered within `requestTimeoutMs`, reconnections back off from `retryBaseMs`
 * to `retryMaxMs`. A batch is sent once: `maxAttempts` does not apply.
 */
export function redisStreamsIngress(options: RedisStreamsIngressOptions): Ingress {
  return new RedisStreamsIngress(options);
}

class RedisStreamsIngress implements Ingress {
  readonly kind = "redis-streams";
  readonly acknowledgement = REDIS_STREAMS_ACKNOWLEDGEMENT;

  private readonly client: Redis;
  private readonly stream: string;
  private readonly trim: string[];
  private readonly payloadChars: number;
  private readonly requestTimeoutMs: number;
  private readonly address: string;
  private readonly readyWaiters = new Set<ReadyWaiter>();
  private lastError: Error | undefined;
  private closed = false;

  constructor(options: RedisStreamsIngressOptions) {
    if (options.stream.length < 1 || options.stream.length > REDIS_STREAM_CHARS_MAX) {
      throw new Error(
        `redis stream is ${JSON.stringify(options.stream)}, expected 1-${REDIS_STREAM_CHARS_MAX} characters`,
      );
    }
    if (
      options.maxlen !== undefined &&
      !(Number.isSafeInteger(options.maxlen) && options.maxlen >= 1)
    ) {
      throw new Error(`redis maxlen is ${options.maxlen}, expected a positive integer`);
    }
    checkPayloadChars(this.kind, options.payloadChars);
    const sending = resolveSendingOptions(options);
    const limits = backoffLimits(sending);
    const rng = options.rng ?? realRng;
    const log = options.log ?? noLog;
    this.stream = options.stream;
    this.trim = options.maxlen === undefined ? [] : ["MAXLEN", String(options.maxlen)];
    this.payloadChars = options.payloadChars;
    this.requestTimeoutMs = sending.requestTimeoutMs;
    this.address = `${options.host}:${options.port}`;
    this.client = new Redis({
      host: options.host,
      port: options.port,
      lazyConnect: true,
      enableOfflineQueue: false,
      // Commands in flight when the connection drops fail at once rather than wait for a
      // reconnection, and are never sent again.
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      connectTimeout: sending.requestTimeoutMs,
      commandTimeout: sending.requestTimeoutMs,
      // close() gives up at once on a connection, whatever the peer does.
      disconnectTimeout: 0,
      retryStrategy: (times) => backoffMs(limits, times - 1, rng.next()),
    });
    this.client.on("error", (error: Error) => {
      this.lastError = error;
    });
    this.client.on("ready", () => {
      this.lastError = undefined;
      log.info("redis-streams ingress connected", { address: this.address });
      this.wakeReadyWaiters(true);
    });
    this.client.on("close", () => {
      log.warn("redis-streams ingress connection closed", {
        address: this.address,
        error: this.lastError?.message,
      });
    });
  }

  async send(batch: Batch): Promise<BatchResult> {
    if (this.closed) return closedResult(this.kind);
    if (!(await this.ready())) {
      const why = this.closed ? "the ingress closed" : (this.lastError?.message ?? "not ready");
      return settled(
        "rejected",
        1,
        `no connection to redis at ${this.address} within ${this.requestTimeoutMs} ms (${why}): nothing was sent`,
        "refused",
      );
    }
    const commands: string[][] = [];
    for (const id of eventIds(batch)) {
      commands.push([
        "xadd",
        this.stream,
        ...this.trim,
        "*",
        "m",
        encodeToken(id, this.payloadChars),
        "tenant",
        id.tenant,
        "dataset",
        id.dataset,
        "producer",
        id.producer,
        "seq",
        String(id.seq),
      ]);
    }
    try {
      return this.settleReplies(await this.client.multi(commands).exec(), batch.eventCount);
    } catch (error) {
      return this.settleError(error as Error);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wakeReadyWaiters(false);
    const status = this.client.status;
    // While reconnecting there is no socket; disconnect() only cancels the next attempt.
    const ended =
      status === "end" || status === "reconnecting"
        ? Promise.resolve()
        : new Promise<void>((resolve) => this.client.once("end", () => resolve()));
    this.client.disconnect(false);
    await ended;
  }

  /** True once the client is ready; false after requestTimeoutMs without, or on close(). */
  private ready(): Promise<boolean> {
    if (this.client.status === "ready") return Promise.resolve(true);
    if (this.client.status === "wait") {
      // A failure comes as an "error" event; ioredis then reconnects by itself.
      this.client.connect().catch(() => {});
    }
    return new Promise((resolve) => {
      const waiter: ReadyWaiter = {
        timer: realClock.schedule(this.requestTimeoutMs, () => {
          this.readyWaiters.delete(waiter);
          resolve(false);
        }),
        resolve,
      };
      this.readyWaiters.add(waiter);
    });
  }

  private wakeReadyWaiters(ready: boolean): void {
    for (const waiter of this.readyWaiters) {
      waiter.timer.cancel();
      waiter.resolve(ready);
    }
    this.readyWaiters.clear();
  }

  private settleReplies(replies: [Error | null, unknown][] | null, eventCount: number) {
    const ids = (replies ?? []).filter(
      ([error, reply]) =>
        error === null && typeof reply === "string" && ENTRY_ID_PATTERN.test(reply),
    ).length;
    const firstError = replies?.find(([error]) => error !== null)?.[0]?.message ?? "no error";
    const detail = `EXEC answered ${ids} entry ids to ${eventCount} XADDs (${firstError})`;
    if (replies === null || replies.length !== eventCount) return settled("unknown", 1, detail);
    if (ids === eventCount)
      return settled("acked", 1, `${eventCount} entries added to ${this.stream}`);
    // Every XADD failed as it ran (a key of another type...): nothing was added.
    return settled(ids === 0 ? "rejected" : "unknown", 1, detail);
  }

  private settleError(error: Error): BatchResult {
    if (error instanceof ReplyError) {
      const previous = (error as Error & { previousErrors?: Error[] }).previousErrors ?? [];
      const cause = previous[0] === undefined ? "" : ` after ${previous[0].message}`;
      return settled("rejected", 1, `redis refused the batch: ${error.message}${cause}`);
    }
    if (error.message === NOT_WRITTEN_MESSAGE) {
      return settled(
        "rejected",
        1,
        `the connection to redis was down: nothing was sent`,
        "refused",
      );
    }
    const timedOut = error.message === TIMED_OUT_MESSAGE;
    const why = timedOut
      ? `no answer came within ${this.requestTimeoutMs} ms`
      : `the connection was lost (${this.lastError?.message ?? error.message})`;
    const failure: NetFailure = timedOut ? "timeout" : "reset";
    return settled("unknown", 1, `the batch went out but ${why}: it may have been added`, failure);
  }
}
