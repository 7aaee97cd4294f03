// The faults a sink can be told to exhibit, validated at the edge.

import { BadRequest } from "../core/http.ts";

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
