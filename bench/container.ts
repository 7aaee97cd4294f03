// `npm run bench -- container`: the container runtime's costs on this machine. Prints
//   container.image_build_ms      the scratch image built from nothing (no image of that content)
//   container.image_cached_ms     the same request again: hashed, found, not rebuilt
//   container.topology_ready_ms   the reference topology (6 containers) from start to all ready
//   container.nov14_run_ms        one full nov14-2024 replay on legacy-2024
// Figures only: nothing here passes or fails on speed.

import { loadExperiment } from "../harness/experiment/load.ts";
import { referenceTopology } from "../harness/experiment/reference-topology.ts";
import { runExperiment } from "../harness/experiment/runner.ts";
import { containerRuntime } from "../harness/runtime/container/container-runtime.ts";
import { dockerClient, dockerUnavailable } from "../harness/runtime/container/docker.ts";
import { buildPipelineImage, planImage } from "../harness/runtime/container/image.ts";

async function timed<T>(name: string, work: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await work();
  console.log(`container.${name}_ms=${Math.round(performance.now() - started)}`);
  return result;
}

export async function benchContainer(): Promise<void> {
  const unavailable = await dockerUnavailable();
  if (unavailable !== undefined) {
    console.error(`bench container: ${unavailable}`);
    process.exitCode = 2;
    return;
  }
  // From scratch: the image of this content removed first (containers of other runs do not
  // use it, or they would keep it).
  const plan = await planImage();
  const docker = (await dockerClient()).container.dockerode;
  await docker
    .getImage(plan.name)
    .remove()
    .catch(() => {});
  const image = await timed("image_build", () => buildPipelineImage());
  await timed("image_cached", () => buildPipelineImage());

  const runtime = containerRuntime({ image: image.name });
  const topology = await timed("topology_ready", () =>
    runtime.start(
      referenceTopology({
        profile: "hardened",
        sinks: 2,
        jobs: [{ tenant: "t000", dataset: "http_requests" }],
        datasets: ["http_requests"],
      }),
    ),
  );
  await topology.stop();

  const experiment = await loadExperiment("nov14-2024");
  const journal = await timed("nov14_run", () =>
    runExperiment(experiment, { profile: "legacy-2024", seed: 1, runtime }),
  );
  console.log(
    `container.nov14_status=${journal.status} container.nov14_as_expected=${journal.asExpected}`,
  );
}
