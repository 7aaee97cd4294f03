// The first phase: start the topology (peers first, every service ready), then the observer and
// the workload.

import { seededRng } from "../../../pipeline/core/seeded-rng.ts";
import { selectJobTenants } from "../../workload/tenants.ts";
import { Workload } from "../../workload/workload.ts";
import { Observer } from "../observer.ts";
import { readPublishedConfig } from "../../ledger/collect.ts";
import { JobRecord } from "../../ledger/job-record.ts";
import type { Experiment } from "../definition.ts";
import {
  referenceJobs,
  referenceTopology,
  type ReferenceTopologyOptions,
} from "../reference-topology.ts";
import type { RunOptions } from "../runner.ts";
import type { RunState } from "../run-state.ts";
import { servicesRunning } from "../../runtime/runtime.ts";

/** The jobs the run starts with: every dataset of every job tenant. */
function initialJobs(experiment: Experiment): Array<{ tenant: string; dataset: string }> {
  const { workload } = experiment;
  return selectJobTenants(workload).flatMap((tenant) =>
    workload.datasets.map((dataset) => ({ tenant, dataset })),
  );
}

/** The reference topology's options for a run of `experiment` (also what a dry run shows). */
export function referenceSpecOf(
  experiment: Experiment,
  run: Pick<RunOptions, "profile" | "flaws">,
): ReferenceTopologyOptions {
  return {
    profile: run.profile,
    flaws: run.flaws ?? experiment.flaws,
    sinks: experiment.topology.sinks,
    jobs: initialJobs(experiment),
    datasets: experiment.workload.datasets,
    limits: experiment.topology.limits as never,
    sinkLatencyMs: experiment.topology.sinkLatencyMs,
  };
}

export async function startTopology(state: RunState): Promise<void> {
  const { experiment, options } = state;
  await state.step("start", "start topology", async () => {
    const spec = referenceSpecOf(experiment, options);
    // The topology's jobs are in force before the run (at time 0, as the config service has
    // them): no event is produced before the topology is ready, and none is near their start.
    state.jobs = new JobRecord(referenceJobs(spec), 0);
    const topology = await state.runtime.start(referenceTopology(spec), {
      links: state.linkProvider,
    });
    state.topology = topology;
    const [config] = servicesRunning(topology.services, "config");
    if (config !== undefined) {
      state.jobs.snapshot(
        await readPublishedConfig(topology.net, { url: config.url() }, () => state.clock.now()),
      );
    }
    for (const [service, megabytes] of Object.entries(experiment.topology.memoryCapMb ?? {})) {
      topology.service(service).setMemoryCap(megabytes);
    }
  });
}

/** Starts watching the topology and driving the workload; returns when the workload started. */
export function startWorkload(state: RunState): number {
  const topology = state.topology;
  if (topology === null) throw new Error("the workload needs a started topology");
  state.observer = new Observer(topology, state.experiment.topology.maxBufferMemoryMb);
  state.observer.start();
  state.workload = new Workload(
    { clock: state.clock, rng: seededRng(state.options.seed), net: topology.net },
    topology.service("forwarder").url(),
    state.experiment.workload,
  );
  const workloadStart = state.clock.now();
  state.workload.start();
  return workloadStart;
}
