// 14 November 2024, time-compressed to about a minute (docs/architecture.md §10). Steady state; a
// job for a new dataset makes the config generator emit an empty config; it is reverted a few
// seconds later; the revert leaves the forwarder failing open, so every tenant's logs flood the
// buffer at about 40× the configured demand; the buffer, its limits unconfigured, grows until its
// memory cap kills it; the forwarder is fixed and restarted; the buffer needs a full reset and
// restart; drain.
//
// Job tenants are the four lightest of forty (Zipf s=1): about 2.4% of all events, so failing
// open sends about 41× the buffer demand of the configured jobs.

import { defineExperiment } from "../harness/experiment/definition.ts";

export default defineExperiment({
  name: "nov14-2024",
  description:
    "The Cloudflare log-loss incident of 14 November 2024: empty config on a new dataset, revert, fail-open flood, overwhelmed buffer, restart.",
  profile: "legacy-2024",
  topology: {
    sinks: 2,
    limits: {
      maxBufferBytes: 16 * 1024 * 1024,
      maxTenantBytes: 8 * 1024 * 1024,
      maxBuffers: 64,
      configPollMs: 100,
      bufferTimeoutMs: 1_000,
    },
    memoryCapMb: { buffer: 224 },
    maxBufferMemoryMb: 224,
  },
  workload: {
    tenants: 40,
    zipfExponent: 1,
    jobTenants: ["t036", "t037", "t038", "t039"],
    datasets: ["http_requests", "firewall_events"],
    producers: 4,
    eventsPerSecond: 12_000,
    batchSize: 400,
    payloadBytes: 512,
    concurrency: 16,
    maxAttempts: 30,
    maxRetryAfterMs: 1_000,
  },
  // On the simulator: the same proportions at 1/24 of the rate with 64-byte payloads (26,000
  // events): job tenants ~2.4% of traffic, a byte bound of ~2.7 s of the whole flood, and a
  // memory cap the model (40 MB + 4 × bytes held) passes at ~1.7× that bound.
  simulator: {
    workload: { eventsPerSecond: 500, payloadBytes: 64, batchSize: 20, concurrency: 8 },
    topology: {
      limits: { maxBufferBytes: 192 * 1024, maxTenantBytes: 96 * 1024 },
      memoryCapMb: { buffer: 41.25 },
      maxBufferMemoryMb: 41.25,
    },
  },
  duration: "50s",
  warmup: "3s",
  method: [
    {
      at: "3s",
      fault: { kind: "config.add-job", dataset: "dns_logs" },
      note: "a job for a new dataset",
    },
    { at: "8s", fault: { kind: "config.revert" }, note: "the change is reverted" },
    {
      at: "25s",
      fault: { kind: "process.restart", service: "forwarder" },
      note: "the forwarder is fixed and restarted",
    },
    {
      at: "27s",
      fault: { kind: "process.restart", service: "buffer", onlyIfUnhealthy: true, wipeData: true },
      note: "the overwhelmed buffer needs a full reset and restart",
    },
  ],
  drain: { timeout: "40s" },
  recoveryBound: "30s",
  expect: {
    "legacy-2024": {
      "no-silent-loss": "violated",
      "bounded-buffer": "violated",
      "config-safety": "violated",
    },
    hardened: {},
  },
});
