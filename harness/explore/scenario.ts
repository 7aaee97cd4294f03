// The scenario every generated schedule runs on: the reference topology with fault proxies on
// every link, forty tenants of which half have jobs, a small steady workload (300 events/s for 26 s) and tight buffer
// bounds, so that a fault that matters shows within seconds. Small enough to run a few hundred
// times a minute on the simulator, and the same on processes for a replay.

import {
  parseExperiment,
  type Experiment,
  type ExperimentInput,
} from "../experiment/definition.ts";

/** Faults start in this window after the warmup, and heal by its end. */
export const FAULT_WINDOW_MS = 16_000;
export const MIN_FAULT_MS = 500;
export const MAX_FAULT_MS = 6_000;

export const EXPLORE_SCENARIO: ExperimentInput = {
  name: "explore",
  description:
    "The base of generated fault schedules: 40 tenants, half with jobs, 300 events/s, tight buffer bounds, fault proxies on every link.",
  topology: {
    sinks: 2,
    proxies: true,
    // The destinations are remote: a push takes a round trip, so the buffer always holds some.
    sinkLatencyMs: 120,
    limits: {
      configPollMs: 100,
      bufferTimeoutMs: 1_000,
      maxBufferBytes: 48 * 1024,
      maxTenantBytes: 24 * 1024,
      maxBuffers: 64,
      leaseMs: 2_000,
      pushTimeoutMs: 2_000,
    },
  },
  workload: {
    tenants: 40,
    zipfExponent: 1,
    jobShare: 0.5,
    datasets: ["http_requests", "firewall_events"],
    producers: 2,
    eventsPerSecond: 300,
    batchSize: 20,
    payloadBytes: 32,
    concurrency: 8,
    maxAttempts: 20,
    maxRetryAfterMs: 1_000,
    requestTimeoutMs: 3_000,
  },
  duration: "26s",
  warmup: "2s",
  steadyState: { deliveringWithin: "1s", timeout: "10s" },
  method: [],
  drain: { timeout: "30s" },
  recoveryBound: "30s",
};

let parsed: Experiment | undefined;

/** The scenario, validated once. */
export function exploreScenario(): Experiment {
  parsed ??= parseExperiment(EXPLORE_SCENARIO, "the explore scenario");
  return parsed;
}
