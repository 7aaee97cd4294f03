// --network private --toxiproxy-image: the link fault proxies live in a Toxiproxy container the
// user names, started with @testcontainers/toxiproxy. No registry is reachable here, so a real
// Toxiproxy image cannot be pulled; a stand-in takes its place: an image built from the pipeline
// image whose default command is the embedded Toxiproxy-compatible server on 0.0.0.0, as a real
// Toxiproxy image's is. The run on legacy-2024 must lose events silently while the link is down:
// the fault went through that container.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { GenericContainer } from "testcontainers";
import { afterAll, expect, it } from "vitest";
import { dockerClient } from "../../harness/runtime/container/docker.ts";
import { buildPipelineImage } from "../../harness/runtime/container/image.ts";
import {
  EMBEDDED_TOXIPROXY_COMMAND,
  TOXIPROXY_ALIAS,
  TOXIPROXY_CONTROL_PORT,
} from "../../harness/runtime/container/toxiproxy-container.ts";
import { eventually } from "../runtime/support.ts";
import { containersOf, describeContainers, runResources, spillway } from "./support.ts";

let standIn: string | undefined;

afterAll(async () => {
  if (standIn === undefined) return;
  const docker = (await dockerClient()).container.dockerode;
  await docker
    .getImage(standIn)
    .remove({ force: true })
    .catch(() => undefined);
});

/** An image from the pipeline image that runs the fault proxy as a Toxiproxy image would. */
async function buildStandIn(): Promise<string> {
  const pipeline = await buildPipelineImage();
  const context = mkdtempSync(path.join(tmpdir(), "spillway-toxiproxy-standin-"));
  try {
    writeFileSync(
      path.join(context, "Dockerfile"),
      `FROM ${pipeline.name}\nCMD ${JSON.stringify(EMBEDDED_TOXIPROXY_COMMAND)}\nEXPOSE ${TOXIPROXY_CONTROL_PORT}\n`,
    );
    standIn = `spillway-toxiproxy-standin:${pipeline.hash}`;
    await GenericContainer.fromDockerfile(context).build(standIn, { deleteOnExit: false });
    return standIn;
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
}

describeContainers("--toxiproxy-image on a private network", () => {
  it(
    "network-partition on legacy-2024 through the named Toxiproxy image: the link fault loses events silently",
    { timeout: 180_000 },
    async () => {
      const image = await buildStandIn();
      const harness = spillway(
        [
          "run",
          "network-partition",
          "--runtime",
          "container",
          "--network",
          "private",
          "--toxiproxy-image",
          image,
          "--profile",
          "legacy-2024",
        ],
        { timeout: 150_000 },
      );
      // The run's proxy container, seen while the run is under way.
      const proxyOf = async () =>
        (await containersOf(harness.pid!)).find(
          (container) => container.service === TOXIPROXY_ALIAS,
        );
      expect(await eventually(async () => (await proxyOf()) !== undefined, 60_000)).toBe(true);
      const proxy = (await proxyOf())!;
      const result = await harness;
      expect(result.exitCode, result.stderr).toBe(0);
      expect(proxy.image).toBe(image);
      expect(result.stdout).toMatch(/^no-silent-loss +violated ✓$/m);
      expect(result.stdout).toMatch(/^lost silently +[1-9][\d,]* \(/m);
      expect(result.stdout).toMatch(/^as expected +yes$/m);
      // The run removed what it made, the proxy container included.
      const left = await runResources();
      expect(left.containers.filter((container) => container.run === proxy.run)).toEqual([]);
      expect(left.networks.filter((network) => network.run === proxy.run)).toEqual([]);
    },
  );
});
