// What every ingress shares (docs/targets.md, "Ingress"): the workload's bounds on sending a batch,
// the waits that close() cuts short, the event ids a batch carries, and how a batch that is not
// sent over HTTP is settled.

import type { EventId } from "../../../pipeline/core/event.ts";
import { DEFAULT_LIMITS, type Limits } from "../../../pipeline/core/limits.ts";
import type { Log, NetFailure } from "../../../pipeline/core/seam.ts";
import type { Batch } from "../../workload/batch.ts";
import { resolveWorkloadOptions, type WorkloadOptions } from "../../workload/options.ts";
import type { BatchOutcome } from "../../workload/record.ts";
import type { BatchResult } from "../../workload/send-batch.ts";
import { PAYLOAD_CHARS_MIN } from "../identity.ts";
import type { IngressKind } from "./ingress.ts";

/**
 * The workload's bounds on one batch, read by every ingress: attempts (HTTP requests, or syslog
 * connection attempts), the timeout of one request, connection or command, and the backoff.
 */
export type SendingOptions = Pick<
  WorkloadOptions,
  "maxAttempts" | "requestTimeoutMs" | "retryBaseMs" | "retryMaxMs" | "maxRetryAfterMs"
>;

const SENDING_KEYS = [
  "maxAttempts",
  "requestTimeoutMs",
  "retryBaseMs",
  "retryMaxMs",
  "maxRetryAfterMs",
] as const satisfies readonly (keyof SendingOptions)[];

/**
 * The sending bounds among `options` (an ingress's options, which hold more) over the workload's
 * own defaults, validated as the workload validates them.
 */
export function resolveSendingOptions(options: Partial<SendingOptions>): SendingOptions {
  const overrides: Partial<SendingOptions> = {};
  for (const key of SENDING_KEYS) {
    if (options[key] !== undefined) overrides[key] = options[key];
  }
  const resolved = resolveWorkloadOptions(overrides, "ingress");
  const sending = {} as SendingOptions;
  for (const key of SENDING_KEYS) sending[key] = resolved[key];
  return sending;
}

/** The backoff bounds as backoffMs reads them. */
export function backoffLimits(sending: SendingOptions): Limits {
  return { ...DEFAULT_LIMITS, retryBaseMs: sending.retryBaseMs, retryMaxMs: sending.retryMaxMs };
}

/** Checked when an ingress is made, rather than at its first batch. */
export function checkPayloadChars(kind: IngressKind, payloadChars: number): void {
  if (!Number.isInteger(payloadChars) || payloadChars < PAYLOAD_CHARS_MIN) {
    throw new Error(
      `${kind} ingress payloadChars is ${payloadChars}, expected an integer of at least ${PAYLOAD_CHARS_MIN}`,
    );
  }
}

export const noLog: Log = { info() {}, warn() {}, error() {} };

/** The ids of a batch's events, stream by stream in seq order (as its slices claim them). */
export function* eventIds(batch: Batch): Generator<EventId> {
  for (const { stream, seqFrom, seqTo } of batch.slices) {
    const { tenant, dataset, producer } = stream;
    for (let seq = seqFrom; seq <= seqTo; seq++) yield { tenant, dataset, producer, seq };
  }
}

/** A batch settled without an HTTP answer (syslog, Redis Streams, or an ingress closed). */
export function settled(
  outcome: BatchOutcome,
  attempts: number,
  detail: string,
  lastFailure?: NetFailure,
): BatchResult {
  return {
    outcome,
    attempts,
    lastStatus: undefined,
    lastFailure,
    detail,
    protocolError: undefined,
  };
}

export function closedResult(kind: string): BatchResult {
  return settled("rejected", 0, `the ${kind} ingress is closed: nothing was sent`);
}
