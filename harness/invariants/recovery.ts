// recovery (docs/architecture.md §5): after the last fault heals, the backlog drains and every
// service is healthy again within a bound. Not recovered while the run watched for less than the
// bound is unknown; not recovered after the bound, or recovered late, is a violation.

import { duration, when } from "./format.ts";
import type { InvariantResult, Observations } from "./types.ts";

/** The last time the run looked: as said, or the last buffer reading. */
function watchedUntil(observations: Observations): number | null {
  const explicit = observations.recovery.observedUntil;
  if (explicit !== undefined && explicit !== null) return explicit;
  const samples = observations.buffer.samples;
  return samples.length === 0 ? null : samples[samples.length - 1]!.at;
}

export function checkRecovery(observations: Observations): InvariantResult {
  const { lastHealAt, recoveredAt, boundMs, backlog } = observations.recovery;
  const startedAt = observations.startedAt;
  const name = "recovery";
  if (lastHealAt === null) {
    return {
      name,
      status: "held",
      summary: "held trivially: no fault was injected, so there was nothing to recover from",
      evidence: { lastHealAt, recoveredAt, boundMs },
    };
  }
  // A recovery reading from before the last heal belongs to an earlier fault: not this one.
  if (recoveredAt !== null && recoveredAt >= lastHealAt) {
    const tookMs = recoveredAt - lastHealAt;
    const evidence = { lastHealAt, recoveredAt, tookMs, boundMs, ...(backlog ? { backlog } : {}) };
    return tookMs <= boundMs
      ? {
          name,
          status: "held",
          summary: `recovered ${duration(tookMs)} after the last heal (at ${when(lastHealAt, startedAt)}), within the ${duration(boundMs)} bound`,
          evidence,
        }
      : {
          name,
          status: "violated",
          summary: `recovered only ${duration(tookMs)} after the last heal (at ${when(lastHealAt, startedAt)}), over the ${duration(boundMs)} bound`,
          evidence,
        };
  }
  const until = watchedUntil(observations);
  const watchedMs = until === null ? null : Math.max(0, until - lastHealAt);
  const evidence = {
    lastHealAt,
    recoveredAt: null,
    watchedMs,
    boundMs,
    ...(backlog ? { backlog } : {}),
  };
  if (watchedMs !== null && watchedMs < boundMs) {
    return {
      name,
      status: "unknown",
      summary: `not recovered yet, but watched only ${duration(watchedMs)} of the ${duration(boundMs)} bound after the last heal (at ${when(lastHealAt, startedAt)})`,
      evidence,
    };
  }
  return {
    name,
    status: "violated",
    summary:
      `not recovered ${watchedMs === null ? "at all" : duration(watchedMs)} after the last heal (at ${when(lastHealAt, startedAt)}; bound ${duration(boundMs)})` +
      (backlog?.lastReading === undefined
        ? ": the backlog did not drain or a service stayed unhealthy"
        : `: at the last reading the buffer held ${backlog.lastReading.bytes} bytes (back to the pre-fault level is at most ${backlog.thresholds.bytes}), ${backlog.lastReading.owedEvents} acknowledged events were neither delivered nor declared (at most ${backlog.thresholds.owedEvents}), ${backlog.lastReading.healthy ? "every service healthy" : "not every service healthy"}`),
    evidence,
  };
}
