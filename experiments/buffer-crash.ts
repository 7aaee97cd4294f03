// The buffer is SIGKILLed mid-run and restarted two seconds later. Hardened: the write-ahead
// log is fsynced before every ack and the forwarder pushes back while the buffer is down, so
// nothing acknowledged is lost. Legacy: acknowledged appends still in memory are gone, and
// the forwarder drops what it cannot append.

import { defineExperiment } from "../harness/experiment/definition.ts";

export default defineExperiment({
  name: "buffer-crash",
  description: "SIGKILL the buffer mid-run and restart it: does every acknowledged event survive?",
  topology: {
    sinks: 2,
    limits: { configPollMs: 100, bufferTimeoutMs: 1_000, volatileFlushMs: 5_000 },
  },
  workload: {
    tenants: 12,
    jobShare: 0.5,
    eventsPerSecond: 3_000,
    batchSize: 200,
    maxAttempts: 30,
    maxRetryAfterMs: 1_000,
  },
  duration: "14s",
  warmup: "2s",
  method: [
    { at: "4s", for: "2s", fault: { kind: "process.kill", service: "buffer", signal: "SIGKILL" } },
  ],
  expect: {
    "legacy-2024": { "no-silent-loss": "violated" },
    hardened: {},
  },
});
