// The reference topology every experiment starts from: config, sinks, buffer, pusher,
// forwarder, with one job per (job tenant, dataset) spread over the sinks.

import type { Limits } from "../../pipeline/core/limits.ts";
import type { TopologySpec } from "../runtime/topology.ts";

export interface ReferenceTopologyOptions {
  profile: string;
  flaws?: string[];
  sinks: number;
  jobs: Array<{ tenant: string; dataset: string }>;
  /** Every dataset the workload sends: none of them counts as new to the config generator. */
  datasets: string[];
  limits?: Partial<Limits>;
  bufferMemoryCapMb?: number;
  /** Every push to a sink is answered after this long (a remote destination's round trip). */
  sinkLatencyMs?: number;
}

export function sinkName(index: number): string {
  return `sink-${index}`;
}

/** The jobs the config service starts with, spread over the sinks. */
export function referenceJobs(
  options: Pick<ReferenceTopologyOptions, "sinks" | "jobs">,
): Array<{ tenant: string; dataset: string; destination: string }> {
  return options.jobs.map(({ tenant, dataset }, index) => ({
    tenant,
    dataset,
    destination: `${sinkName(index % options.sinks)}/${tenant}.${dataset}`,
  }));
}

export function referenceTopology(options: ReferenceTopologyOptions): TopologySpec {
  const sinks = Array.from({ length: options.sinks }, (_, index) => sinkName(index));
  const jobs = referenceJobs(options);
  const limits = options.limits as Record<string, unknown> | undefined;
  return {
    profile: options.profile as TopologySpec["profile"],
    flaws: options.flaws as TopologySpec["flaws"],
    services: [
      {
        name: "config",
        component: "config",
        settings: { jobs, datasets: options.datasets },
        limits,
      },
      ...sinks.map((name) => ({
        name,
        component: "sink" as const,
        limits,
        ...(options.sinkLatencyMs === undefined || options.sinkLatencyMs === 0
          ? {}
          : { settings: { latencyMs: options.sinkLatencyMs } }),
      })),
      {
        name: "buffer",
        component: "buffer",
        peers: ["config"],
        limits,
        ...(options.bufferMemoryCapMb === undefined
          ? {}
          : { memoryCapMb: options.bufferMemoryCapMb }),
      },
      { name: "pusher", component: "pusher", peers: ["config", "buffer", ...sinks], limits },
      { name: "forwarder", component: "forwarder", peers: ["config", "buffer"], limits },
    ],
  };
}
