// The faults a sink can be told to exhibit (docs/architecture.md §4), validated at the edge, and
// the answer each gives in place of recording. The targets' HTTP recorder exhibits the same ones.

import { BadRequest, problem } from "../core/http.ts";
import type { Clock, HttpResponse } from "../core/seam.ts";

export type SinkFault =
  | { mode: "none" }
  | { mode: "slow"; delayMs: number }
  | { mode: "error"; status: number }
  | { mode: "throttle"; retryAfterMs: number };

const MAX_DELAY_MS = 600_000;

function integerField(
  body: Record<string, unknown>,
  field: string,
  min: number,
  max: number,
): number {
  const value = body[field];
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new BadRequest(
      `field "${field}" is ${JSON.stringify(value)}, expected an integer from ${min} to ${max}`,
    );
  }
  return value;
}

export function parseSinkFault(body: unknown): SinkFault {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new BadRequest(`fault must be a JSON object, got ${JSON.stringify(body)}`);
  }
  const fields = body as Record<string, unknown>;
  switch (fields.mode) {
    case "none":
      return { mode: "none" };
    case "slow":
      return { mode: "slow", delayMs: integerField(fields, "delayMs", 0, MAX_DELAY_MS) };
    case "error":
      return { mode: "error", status: integerField(fields, "status", 500, 599) };
    case "throttle":
      return {
        mode: "throttle",
        retryAfterMs: integerField(fields, "retryAfterMs", 0, MAX_DELAY_MS),
      };
    default:
      throw new BadRequest(
        `field "mode" is ${JSON.stringify(fields.mode)}, expected one of "none", "slow", "error", "throttle"`,
      );
  }
}

/**
 * What a push meets under `fault`: after the fault's delay (slow), null to record it as usual, or
 * the answer that refuses it (error: its 5xx; throttle: 429 with Retry-After) and the fault's mode.
 */
export async function faultAnswer(
  fault: SinkFault,
  clock: Clock,
): Promise<{ mode: SinkFault["mode"]; answer: HttpResponse } | null> {
  switch (fault.mode) {
    case "none":
      return null;
    case "slow":
      await clock.sleep(fault.delayMs);
      return null;
    case "error":
      return {
        mode: fault.mode,
        answer: problem(fault.status, `injected sink fault: ${fault.status}`),
      };
    case "throttle":
      return {
        mode: fault.mode,
        answer: problem(429, "injected sink fault: throttled", {
          "retry-after-ms": String(fault.retryAfterMs),
          "retry-after": String(Math.ceil(fault.retryAfterMs / 1000)),
        }),
      };
  }
}
