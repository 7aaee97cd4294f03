// How invariant summaries write figures: counts with separators, shares, sizes, durations,
// times into the run and event ids, so that every summary reads the same way. And the one
// line (plus evidence, if asked) that a terminal shows per invariant.

import type { EventId } from "../../pipeline/core/event.ts";
import type { InvariantResult, InvariantStatus } from "./types.ts";

export function count(value: number): string {
  return Math.round(value).toLocaleString("en-US");
}

/** The part of the whole; 0 when the whole is 0, so that evidence never holds NaN. */
export function share(part: number, whole: number): number {
  return whole === 0 ? 0 : part / whole;
}

/** A share as a percentage a person can compare: "55.2%", "<0.1%" rather than "0.0%". */
export function percent(value: number): string {
  if (value > 0 && value < 0.001) return "<0.1%";
  return `${(100 * value).toFixed(1)}%`;
}

const BYTE_UNITS = ["B", "KiB", "MiB", "GiB", "TiB"] as const;

export function bytes(value: number): string {
  let scaled = value;
  let unit = 0;
  while (Math.abs(scaled) >= 1024 && unit < BYTE_UNITS.length - 1) {
    scaled /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${scaled.toFixed(1)} ${BYTE_UNITS[unit]}`;
}

export function duration(ms: number): string {
  if (Math.abs(ms) < 1_000) return `${Math.round(ms)} ms`;
  if (Math.abs(ms) < 120_000) return `${(ms / 1_000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1_000)} s`;
}

/** Clock readings at or above this are wall-clock epoch ms; below, a simulator's virtual ms. */
const EPOCH_MS_FLOOR = 1e12;

/** When something happened: relative to the run's start when known ("+12.4 s"). */
export function when(at: number, startedAt: number | undefined): string {
  if (startedAt !== undefined) return `+${duration(at - startedAt)}`;
  if (at >= EPOCH_MS_FLOOR) return new Date(at).toISOString();
  return `t=${duration(at)}`;
}

export function eventId(id: EventId): string {
  return `${id.tenant}/${id.dataset}/${id.producer}#${id.seq}`;
}

/** "1 tenant", "3 tenants"; "1 copy", "2 copies" with the plural given. */
export function plural(value: number, noun: string, nouns = `${noun}s`): string {
  return `${count(value)} ${value === 1 ? noun : nouns}`;
}

const MARKS: Record<InvariantStatus, string> = { held: "✓", violated: "✗", unknown: "?" };

/**
 * One line per invariant for a terminal: mark, name, status, summary. With `evidence`, the
 * evidence follows, one indented `key: value` line per entry (values as JSON).
 */
export function formatInvariant(
  result: InvariantResult,
  options: { evidence?: boolean } = {},
): string {
  const line = `${MARKS[result.status]} ${result.name.padEnd(16)} ${result.status.padEnd(8)} ${result.summary}`;
  if (options.evidence !== true) return line;
  const details = Object.entries(result.evidence).map(
    ([key, value]) => `    ${key}: ${JSON.stringify(value)}`,
  );
  return [line, ...details].join("\n");
}
