// One tenant with a job floods at 40× its rate for eight seconds while its destination is slow.
// Hardened: the per-tenant and global bounds push back (429) and the buffer stays bounded.
// Legacy: nothing bounds the buffer, which grows past its bound.

import { defineExperiment } from "../harness/experiment/definition.ts";

export default defineExperiment({
  name: "tenant-flood",
  description: "One tenant floods at 40× while its sink is slow: does the buffer stay bounded?",
  topology: {
    sinks: 2,
    limits: { configPollMs: 100, maxBufferBytes: 4 * 1024 * 1024, maxTenantBytes: 2 * 1024 * 1024 },
  },
  workload: {
    tenants: 12,
    jobShare: 0.5,
    eventsPerSecond: 3_000,
    batchSize: 200,
    payloadBytes: 256,
    maxAttempts: 40,
    maxRetryAfterMs: 1_000,
  },
  duration: "16s",
  warmup: "2s",
  method: [
    { at: "2s", for: "9s", fault: { kind: "sink.slow", sink: "sink-0", delayMs: 2_000 } },
    { at: "3s", for: "8s", fault: { kind: "load.tenant-flood", tenant: "t000", multiplier: 40 } },
  ],
  expect: {
    "legacy-2024": { "bounded-buffer": "violated" },
    hardened: {},
  },
});
