// A steady-state run of the reference pipeline on processes: start the topology, drive the
// workload for a while, stop it, wait for the pipeline to drain, then settle every event in
// the ledger. Until the experiment runner exists this is the main job; it is also the
// benchmark's body.

import type { Limits } from "../../pipeline/core/limits.ts";
import { seededRng } from "../../pipeline/core/seeded-rng.ts";
import { createRealNet, realClock } from "../../pipeline/host/real-seam.ts";
import {
  bufferStats,
  collectDeliveries,
  collectDrops,
  collectJobs,
  type BufferStats,
} from "../ledger/collect.ts";
import { computeLedger, type LedgerReport } from "../ledger/ledger.ts";
import { processRuntime } from "../runtime/process/process-runtime.ts";
import type { ProcessTopology } from "../runtime/process/process-runtime.ts";
import { resolveWorkloadOptions, type WorkloadOptionsInput } from "../workload/options.ts";
import { selectJobTenants } from "../workload/tenants.ts";
import { Workload, type WorkloadStats } from "../workload/workload.ts";
import { cpuSnapshot } from "./cpu.ts";
import { ledgerStreams } from "./ledger-input.ts";
import { referenceTopology } from "./reference-topology.ts";
import { serviceRunning } from "../runtime/runtime.ts";

export interface SteadyStateOptions {
  profile: string;
  flaws?: string[];
  durationMs: number;
  seed: number;
  sinks: number;
  workload: WorkloadOptionsInput;
  limits?: Partial<Limits>;
  /** Most time to wait for the buffer to empty after the workload stops. */
  drainTimeoutMs: number;
  /** Called about once a second while the workload runs. */
  onProgress?: (progress: {
    elapsedMs: number;
    workload: WorkloadStats;
    buffer: BufferStats | null;
  }) => void;
  /** Called with the started topology (e.g. to inject a fault mid-run). */
  duringRun?: (topology: ProcessTopology, workload: Workload) => Promise<void>;
}

export interface CpuShare {
  service: string;
  cpuSeconds: number;
}

export interface SteadyStateReport {
  profile: string;
  flaws: string[];
  durationMs: number;
  drainMs: number;
  drained: boolean;
  workload: WorkloadStats;
  /** The buffer's figures at the end, or null when it could not be read (it died). */
  buffer: BufferStats | null;
  ledger: LedgerReport;
  /** Services whose declared drops could not be read at the end (they were down). */
  unreadable: string[];
  /** Events delivered (first copies) per second of the production window. */
  deliveredPerSecond: number;
  cpu: CpuShare[];
}

async function sleep(ms: number): Promise<void> {
  await realClock.sleep(ms);
}

/** Waits until the buffer holds nothing and every sink's count stopped moving. */
async function drain(topology: ProcessTopology, timeoutMs: number): Promise<boolean> {
  const buffer = topology.service("buffer");
  const deadline = Date.now() + timeoutMs;
  let quietPolls = 0;
  while (Date.now() < deadline) {
    const stats = await bufferStats(topology.net, {
      name: "buffer",
      component: "buffer",
      url: buffer.url(),
    }).catch(() => null);
    quietPolls = stats !== null && stats.bytes === 0 ? quietPolls + 1 : 0;
    if (quietPolls >= 3) return true;
    await sleep(200);
  }
  return false;
}

export async function runSteadyState(options: SteadyStateOptions): Promise<SteadyStateReport> {
  const workloadOptions = resolveWorkloadOptions(options.workload);
  const jobs = selectJobTenants(workloadOptions).flatMap((tenant) =>
    workloadOptions.datasets.map((dataset) => ({ tenant, dataset })),
  );
  const runtime = processRuntime();
  const topology = await runtime.start(
    referenceTopology({
      profile: options.profile,
      flaws: options.flaws,
      sinks: options.sinks,
      jobs,
      datasets: workloadOptions.datasets,
      limits: options.limits,
    }),
  );
  const net = createRealNet(workloadOptions.concurrency * 2);
  // The process runtime registers the topology with the cleanup registry itself.
  try {
    const services = topology.services.map((service) => ({
      name: service.name,
      component: service.component,
      url: service.url(),
    }));
    const bufferAddress = services.find((service) => service.name === "buffer")!;
    const workload = new Workload(
      { clock: realClock, rng: seededRng(options.seed), net },
      `${topology.service("forwarder").url()}`,
      options.workload,
    );
    const cpuBefore = cpuSnapshot(topology.services);
    const startedAt = Date.now();
    workload.start();
    const progress = setInterval(() => {
      void bufferStats(net, bufferAddress)
        .catch(() => null)
        .then((buffer) =>
          options.onProgress?.({
            elapsedMs: Date.now() - startedAt,
            workload: workload.stats(),
            buffer,
          }),
        );
    }, 1_000);
    try {
      const during = options.duringRun?.(topology, workload);
      await sleep(options.durationMs);
      await during;
    } finally {
      clearInterval(progress);
    }
    const workloadStats = await workload.stop();
    const producedMs = Date.now() - startedAt;
    const drainStart = Date.now();
    const drained = await drain(topology, options.drainTimeoutMs);
    const drainMs = Date.now() - drainStart;
    const cpuAfter = cpuSnapshot(topology.services);
    const [deliveries, { drops, unreadable }, jobTimeline, buffer] = await Promise.all([
      collectDeliveries(net, services),
      collectDrops(net, services),
      collectJobs(net, serviceRunning(services, "config")),
      bufferStats(net, bufferAddress).catch(() => null),
    ]);
    const ledger = computeLedger({
      streams: ledgerStreams(workload.record),
      deliveries,
      drops,
      jobs: jobTimeline.spans,
      graceMs: 2 * (options.limits?.configPollMs ?? 200),
    });
    return {
      profile: options.profile,
      flaws: options.flaws ?? [],
      durationMs: producedMs,
      drainMs,
      drained,
      workload: workloadStats,
      buffer,
      ledger,
      unreadable,
      deliveredPerSecond: ledger.totals.delivered / ((producedMs + drainMs) / 1000),
      cpu: Object.entries(cpuAfter).map(([service, seconds]) => ({
        service,
        cpuSeconds: seconds - (cpuBefore[service] ?? 0),
      })),
    };
  } finally {
    net.close();
    await topology.stop();
  }
}
