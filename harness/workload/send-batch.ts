// Sending one batch to the forwarder's ingest endpoint, with bounded retries, and deciding
// what became of it:
//   2xx                     → acked: the forwarder took responsibility for the whole batch
//                             (its `accepted` must be the batch's size: checked against the
//                             reference forwarder, whose protocol that is)
//   429, 503                → push back: retry after retry-after-ms (or retry-after), jittered
//   other 5xx               → retry after a jittered backoff
//   other status            → rejected at once (the producer knows)
//   transport failure       → retry after a jittered backoff
// When the attempts run out the batch is rejected, unless some attempt failed in transport:
// that attempt may have reached the forwarder, so the batch is unknown.

import { backoffMs, type Limits } from "../../pipeline/core/limits.ts";
import {
  NetError,
  type HttpResponse,
  type Net,
  type NetFailure,
  type Rng,
} from "../../pipeline/core/seam.ts";
import type { WorkloadOptions } from "./options.ts";
import type { BatchOutcome } from "./record.ts";

/** The jitter added to a delay the forwarder asked for is at most this share of it. */
const PUSHBACK_JITTER_SHARE = 0.25;

export interface BatchResult {
  outcome: BatchOutcome;
  attempts: number;
  /** Status of the last answer, if the last attempt got one. */
  lastStatus: number | undefined;
  /** Transport failure of the last attempt, if it failed in transport. */
  lastFailure: NetFailure | undefined;
  /** Why, for logs: the status and body excerpt, or the transport error. */
  detail: string;
  /** Set when a 2xx answer's `accepted` is not the batch's event count. */
  protocolError: string | undefined;
}

export interface SendContext {
  net: Net;
  rng: Rng;
  ingestUrl: string;
  options: Pick<WorkloadOptions, "maxAttempts" | "requestTimeoutMs" | "maxRetryAfterMs">;
  /**
   * Whether a 2xx must say `accepted` = the batch's size (a protocol error otherwise): the
   * reference forwarder's answer. Default true; false for software that answers otherwise.
   */
  checksAccepted?: boolean;
  /** Backoff bounds, as backoffMs reads them. */
  limits: Limits;
  /** Waits `ms`; resolves false when the workload abandons its batches meanwhile. */
  delay(ms: number): Promise<boolean>;
  /** Called before each retry with the delay chosen. */
  onRetry(delayMs: number, reason: string): void;
}

type Verdict = "acked" | "pushback" | "retry" | "rejected";

function verdictOf(status: number): Verdict {
  if (status >= 200 && status < 300) return "acked";
  if (status === 429 || status === 503) return "pushback";
  if (status >= 500) return "retry";
  return "rejected";
}

function headerOf(response: HttpResponse, name: string): string | undefined {
  for (const [key, value] of Object.entries(response.headers ?? {})) {
    if (key.toLowerCase() === name) return value;
  }
  return undefined;
}

/** The delay a push-back asks for: retry-after-ms, else retry-after in whole seconds. */
export function requestedDelayMs(response: HttpResponse): number | undefined {
  const milliseconds = Number(headerOf(response, "retry-after-ms") ?? Number.NaN);
  if (Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const seconds = headerOf(response, "retry-after");
  if (seconds !== undefined && /^\d+$/.test(seconds.trim())) return Number(seconds) * 1000;
  return undefined;
}

function excerpt(body: string): string {
  const line = body.replace(/\s+/g, " ").trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

export async function sendBatch(
  context: SendContext,
  body: string,
  eventCount: number,
): Promise<BatchResult> {
  const { options } = context;
  let reachedUnknown = false;
  const result = (
    outcome: BatchOutcome,
    attempts: number,
    last: { status?: number; failure?: NetFailure },
    detail: string,
    protocolError?: string,
  ): BatchResult => ({
    outcome,
    attempts,
    lastStatus: last.status,
    lastFailure: last.failure,
    detail,
    protocolError,
  });

  for (let attempt = 1; ; attempt++) {
    let delayMs: number;
    let reason: string;
    let last: { status?: number; failure?: NetFailure };
    try {
      const response = await context.net.request({
        method: "POST",
        url: context.ingestUrl,
        headers: { "content-type": "application/x-ndjson" },
        body,
        timeoutMs: options.requestTimeoutMs,
      });
      last = { status: response.status };
      reason = `${response.status} ${excerpt(response.body)}`;
      const verdict = verdictOf(response.status);
      if (verdict === "acked") {
        const mismatch =
          context.checksAccepted === false ? undefined : acceptedMismatch(response, eventCount);
        return result("acked", attempt, last, reason, mismatch);
      }
      if (verdict === "rejected") return result("rejected", attempt, last, reason);
      const requested = verdict === "pushback" ? requestedDelayMs(response) : undefined;
      delayMs =
        requested === undefined
          ? backoffMs(context.limits, attempt - 1, context.rng.next())
          : pushbackDelayMs(Math.min(requested, options.maxRetryAfterMs), context.rng);
    } catch (error) {
      if (!(error instanceof NetError)) throw error;
      reachedUnknown = true;
      last = { failure: error.failure };
      reason = error.message;
      delayMs = backoffMs(context.limits, attempt - 1, context.rng.next());
    }
    if (attempt >= options.maxAttempts) {
      return result(reachedUnknown ? "unknown" : "rejected", attempt, last, reason);
    }
    context.onRetry(delayMs, reason);
    if (!(await context.delay(delayMs))) {
      return result("unknown", attempt, last, `abandoned while waiting to retry (${reason})`);
    }
  }
}

function pushbackDelayMs(requested: number, rng: Rng): number {
  return requested + Math.floor(rng.next() * Math.max(1, requested * PUSHBACK_JITTER_SHARE));
}

/** A 2xx whose `accepted` differs from the batch breaks the ingest protocol: says how. */
function acceptedMismatch(response: HttpResponse, eventCount: number): string | undefined {
  let accepted: unknown;
  try {
    accepted = (JSON.parse(response.body) as { accepted?: unknown }).accepted;
  } catch {
    accepted = undefined;
  }
  return accepted === eventCount
    ? undefined
    : `${response.status} with accepted ${JSON.stringify(accepted)} for a batch of ${eventCount} events`;
}
