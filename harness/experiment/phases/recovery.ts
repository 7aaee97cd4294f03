// Recovery (docs/architecture.md §5): watched from the last heal. The pipeline has recovered
// at the first instant after it when the backlog is back to its pre-fault level — the bytes the
// buffer holds, and the acknowledged events not yet delivered or declared (the ledger's view
// over time, harness/ledger/backlog.ts) — and every service answers /healthz.
//
// The readings are judged after the run, when the ledger knows which events were expected; the
// run only makes sure it watched long enough: after the drain it keeps reading until the
// buffer is back down with every service healthy, or the recovery bound has passed since the
// last heal, so that a backlog that never drains is seen not to, for the whole bound.

import type { RunState } from "../run-state.ts";

export interface BacklogLevel {
  bytes: number;
  owedEvents: number;
}

export interface BacklogReading extends BacklogLevel {
  at: number;
  /** Every service answered /healthz at the latest reading before this instant. */
  healthy: boolean;
}

/** The stretch before the first fault whose highest backlog is the pre-fault level. */
const PRE_FAULT_WINDOW_MS = 5_000;
/** Slack over the pre-fault level: a busy machine's in-flight work varies by this much. */
const LEVEL_FACTOR = 1.5;
const BYTES_SLACK = 64 * 1024;
const EVENTS_SLACK = 20;
const POLL_MS = 250;

/** The highest backlog over the few seconds before the first fault (zero without readings). */
export function preFaultLevel(
  readings: readonly BacklogReading[],
  firstFaultAt: number,
): BacklogLevel {
  const before = readings.filter(
    (reading) => reading.at < firstFaultAt && reading.at >= firstFaultAt - PRE_FAULT_WINDOW_MS,
  );
  return {
    bytes: Math.max(0, ...before.map((reading) => reading.bytes)),
    owedEvents: Math.max(0, ...before.map((reading) => reading.owedEvents)),
  };
}

/** The most backlog that still counts as back to the pre-fault level. */
export function recoveryThresholds(preFault: BacklogLevel): BacklogLevel {
  return {
    bytes: Math.ceil(preFault.bytes * LEVEL_FACTOR) + BYTES_SLACK,
    owedEvents: Math.ceil(preFault.owedEvents * LEVEL_FACTOR) + EVENTS_SLACK,
  };
}

/** The first reading at or after the last heal with the backlog down and every service healthy. */
export function firstRecovered(
  readings: readonly BacklogReading[],
  lastHealAt: number,
  thresholds: BacklogLevel,
): BacklogReading | null {
  return (
    readings.find(
      (reading) =>
        reading.at >= lastHealAt &&
        reading.healthy &&
        reading.bytes <= thresholds.bytes &&
        reading.owedEvents <= thresholds.owedEvents,
    ) ?? null
  );
}

/**
 * After the drain: keeps the observer reading until the buffer is back to its pre-fault bytes
 * with every service healthy, or the recovery bound has passed since the last heal.
 */
export async function watchRecoveryTail(state: RunState): Promise<void> {
  const { lastHealAt, firstFaultAt } = state;
  if (lastHealAt === null || firstFaultAt === null) return;
  const observer = state.watching();
  const bytesMax = recoveryThresholds(
    preFaultLevel(
      observer.bufferSamples.map((sample) => ({ ...sample, owedEvents: 0, healthy: true })),
      firstFaultAt,
    ),
  ).bytes;
  const until = lastHealAt + state.experiment.recoveryBound;
  while (state.clock.now() < until) {
    const latest = observer.latestBuffer();
    const health = observer.healthSamples[observer.healthSamples.length - 1];
    if (
      latest !== undefined &&
      latest.at >= lastHealAt &&
      latest.bytes <= bytesMax &&
      health !== undefined &&
      health.at >= lastHealAt &&
      health.unhealthy.length === 0
    ) {
      return;
    }
    await state.clock.sleep(POLL_MS);
  }
}
