// The config flaps: an empty config, a revert, a corrupt config, a revert. Hardened refuses
// both bad configs and keeps the last good one. Legacy applies the empty config (silent loss)
// and, after the corrupt one, fails open for good: every tenant's events reach the buffer,
// where those of tenants with no job stay, never drained — so the backlog never returns to its
// pre-fault level and legacy fails recovery too.

import { defineExperiment } from "../harness/experiment/definition.ts";

export default defineExperiment({
  name: "config-flap",
  description: "Empty, revert, corrupt, revert: is an invalid config ever applied?",
  topology: { sinks: 2, limits: { configPollMs: 100 } },
  workload: {
    tenants: 12,
    jobShare: 0.5,
    eventsPerSecond: 3_000,
    batchSize: 200,
    maxAttempts: 30,
    maxRetryAfterMs: 1_000,
  },
  duration: "16s",
  warmup: "2s",
  method: [
    { at: "2s", fault: { kind: "config.push-empty" } },
    { at: "4s", fault: { kind: "config.revert" } },
    { at: "6s", fault: { kind: "config.push-corrupt" } },
    { at: "8s", fault: { kind: "config.revert" } },
  ],
  expect: {
    "legacy-2024": {
      "no-silent-loss": "violated",
      "config-safety": "violated",
      recovery: "violated",
    },
    hardened: {},
  },
});
