// A limit on everything (docs/architecture.md §9, after TigerBeetle): every queue, buffer, retry
// loop, wait and timeout of the pipeline is bounded by a field of this one object.

export interface Limits {
  /** Largest request body any component reads; larger ones get 413. */
  maxBodyBytes: number;
  /** A request (headers and body) not received in full within this time gets 408. */
  requestTimeoutMs: number;
  /** Most events in one ingest/append/push batch. */
  maxEventsPerBatch: number;

  /** How often forwarder, buffer and pusher poll the config service. */
  configPollMs: number;
  /** A config removing more than this share of the current pairs is refused (hardened). */
  maxRemovedPairShare: number;

  /** How long the forwarder waits for one buffer append. */
  bufferTimeoutMs: number;
  /** Append attempts before the forwarder pushes back to the producer (hardened). */
  bufferAttempts: number;
  /** Jittered exponential backoff between retries, everywhere. */
  retryBaseMs: number;
  retryMaxMs: number;

  /** Bounded buffers (hardened): total bytes, per-tenant bytes and count of buffers. */
  maxBufferBytes: number;
  maxTenantBytes: number;
  maxBuffers: number;
  /** Retry-After the buffer suggests when it pushes back, in ms. */
  pushbackRetryMs: number;
  /** A leased batch not acked within this time may be leased again. */
  leaseMs: number;
  /** How long a lease request waits for data before answering empty. */
  leaseWaitMs: number;
  /** Most bytes in one lease (the size of one push). */
  leaseMaxBytes: number;
  /** With buffer.ackBeforeDurable, how often the volatile tail is written out. */
  volatileFlushMs: number;
  /** The write-ahead log rolls to a new segment past this size. */
  walSegmentBytes: number;

  /** How long the pusher waits for one push to a sink. */
  pushTimeoutMs: number;
  /** With pusher.ackBeforeDelivery, push attempts before the batch is silently abandoned. */
  legacyPushAttempts: number;

  /** Most declared-drop records a component keeps (older ones are summarised). */
  maxDropRecords: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxBodyBytes: 8 * 1024 * 1024,
  requestTimeoutMs: 30_000,
  maxEventsPerBatch: 20_000,
  configPollMs: 200,
  maxRemovedPairShare: 0.5,
  bufferTimeoutMs: 2_000,
  bufferAttempts: 3,
  retryBaseMs: 50,
  retryMaxMs: 2_000,
  maxBufferBytes: 64 * 1024 * 1024,
  maxTenantBytes: 16 * 1024 * 1024,
  maxBuffers: 256,
  pushbackRetryMs: 200,
  leaseMs: 5_000,
  leaseWaitMs: 250,
  leaseMaxBytes: 1024 * 1024,
  volatileFlushMs: 2_000,
  walSegmentBytes: 32 * 1024 * 1024,
  pushTimeoutMs: 5_000,
  legacyPushAttempts: 3,
  maxDropRecords: 100_000,
});

/** Merges overrides into the defaults, refusing unknown keys and non-positive numbers. */
export function resolveLimits(overrides: Record<string, unknown> = {}): Limits {
  const limits: Limits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(overrides)) {
    if (!Object.hasOwn(DEFAULT_LIMITS, key)) {
      throw new Error(
        `limit "${key}" is unknown; expected one of: ${Object.keys(DEFAULT_LIMITS).join(", ")}`,
      );
    }
    if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
      throw new Error(`limit "${key}" is ${JSON.stringify(value)}, expected a positive number`);
    }
    (limits as unknown as Record<string, number>)[key] = value;
  }
  return limits;
}

/** Delay before retry number `attempt` (0-based): exponential, capped, full jitter. */
export function backoffMs(limits: Limits, attempt: number, random: number): number {
  const ceiling = Math.min(limits.retryMaxMs, limits.retryBaseMs * 2 ** attempt);
  return Math.max(1, Math.floor(ceiling * (0.5 + random / 2)));
}
