// Durations in experiment files: a number of milliseconds, or a string with a unit
// ("250ms", "5s", "1.5m").

import { z } from "zod";

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000 };
const PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m)$/;

export const MAX_DURATION_MS = 24 * 60 * 60 * 1000;

export function parseDuration(value: number | string): number | null {
  if (typeof value === "number") return Number.isFinite(value) && value >= 0 ? value : null;
  const match = PATTERN.exec(value.trim());
  if (match === null) return null;
  return Number(match[1]) * UNITS[match[2]!]!;
}

/** A zod schema for a non-negative duration, as ms. */
const DURATION_EXPECTED = `expected a duration: milliseconds ≥ 0 or a string like "500ms", "5s", "1.5m" (at most 24 h)`;

export const durationSchema = z
  .union([z.number(), z.string()], { error: DURATION_EXPECTED })
  .transform((value, context) => {
    const ms = parseDuration(value);
    if (ms === null || ms > MAX_DURATION_MS) {
      context.addIssue({
        code: "custom",
        input: value,
        message: DURATION_EXPECTED,
      });
      return z.NEVER;
    }
    return ms;
  });

export function formatDuration(ms: number): string {
  return ms >= 1_000 ? `${(ms / 1_000).toFixed(ms % 1_000 === 0 ? 0 : 1)}s` : `${ms}ms`;
}
