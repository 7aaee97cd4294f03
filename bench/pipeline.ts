// `npm run bench -- pipeline`: hardened as processes for 30 s, every tenant with jobs so every
// acknowledged event is expected; every event is verified by the ledger. Prints per-component
// CPU and ends with `pipeline.events_per_s=<n>` (first copies delivered per second).

import { fileURLToPath } from "node:url";
import { runSteadyState } from "../harness/experiment/steady-state.ts";

const DURATION_MS = Number(process.env.SPILLWAY_BENCH_SECONDS ?? 30) * 1000;

export async function benchPipeline(): Promise<void> {
  const report = await runSteadyState({
    profile: "hardened",
    durationMs: DURATION_MS,
    seed: 1,
    sinks: 2,
    drainTimeoutMs: 60_000,
    workload: {
      tenants: 20,
      jobShare: 1,
      datasets: ["http_requests"],
      eventsPerSecond: Number(process.env.SPILLWAY_BENCH_RATE ?? 150_000),
      // Measured here: 500-event batches with 16 in flight beat larger batches or more
      // concurrency (fewer stalls behind one big append or push).
      batchSize: 500,
      payloadBytes: 32,
      concurrency: 16,
      flushIntervalMs: 20,
      maxAttempts: 50,
    },
  });
  const { totals } = report.ledger;
  const seconds = (report.durationMs + report.drainMs) / 1000;
  const cpuTotal = report.cpu.reduce((sum, entry) => sum + entry.cpuSeconds, 0);
  console.log(
    `produced ${report.workload.produced} acked ${report.workload.acked} rejected ${report.workload.rejected} unknown ${report.workload.unknown} retries ${report.workload.retries}`,
  );
  console.log(
    `expected ${totals.expected} delivered ${totals.delivered} duplicated ${totals.duplicated} lost ${totals.lost} in ${seconds.toFixed(1)} s (drain ${(report.drainMs / 1000).toFixed(1)} s)`,
  );
  console.log(`buffer high water ${report.buffer?.highWaterBytes ?? "?"} bytes`);
  console.log(`cpu seconds (share of ${(cpuTotal / seconds).toFixed(2)} cores used):`);
  for (const entry of report.cpu) {
    console.log(
      `  ${entry.service.padEnd(10)} ${entry.cpuSeconds.toFixed(1).padStart(6)} s  ${((100 * entry.cpuSeconds) / cpuTotal).toFixed(0).padStart(3)}%`,
    );
  }
  if (totals.lost > 0 || totals.delivered !== totals.expected)
    console.log("WARNING: not every expected event was delivered");
  console.log(`pipeline.events_per_s=${Math.round(totals.delivered / seconds)}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await benchPipeline();
