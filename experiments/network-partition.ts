// The link from the forwarder to the buffer goes down for five seconds (through the fault
// proxy). Hardened: the forwarder answers 503 and producers retry, so nothing acknowledged is
// lost. Legacy: the forwarder logs the failed append, drops the batch and answers 200.

import { defineExperiment } from "../harness/experiment/definition.ts";

export default defineExperiment({
  name: "network-partition",
  description: "forwarder→buffer link down for 5 s: does the forwarder push back or drop silently?",
  topology: { sinks: 2, limits: { configPollMs: 100, bufferTimeoutMs: 1_000 } },
  workload: {
    tenants: 12,
    jobShare: 0.5,
    eventsPerSecond: 3_000,
    batchSize: 200,
    maxAttempts: 40,
    maxRetryAfterMs: 1_000,
  },
  duration: "14s",
  warmup: "2s",
  method: [{ at: "3s", for: "5s", fault: { kind: "network.down", link: "forwarder->buffer" } }],
  expect: {
    "legacy-2024": { "no-silent-loss": "violated" },
    hardened: {},
  },
});
