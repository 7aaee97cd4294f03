// --network private --toxiproxy-image: the link fault proxies live in a Toxiproxy container the
// user names, started with @testcontainers/toxiproxy. No registry is reachable here, so a real
// Toxiproxy image cannot be pulled; a stand-in takes its place: an image built from the pipeline
// image whose default command is the embedded Toxiproxy-compatible server on 0.0.0.0, as a real
// Toxiproxy image's is. The run on legacy-2024 must lose events silently while the link is down:
// the fault went through that container.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execa } from "execa";
import { GenericContainer } from "testcontainers";
import { afterAll, expect, it } from "vitest";
import { dockerClient } from "../../harness/runtime/container/docker.ts";
import { buildPipelineImage } from "../../harness/runtime/container/image.ts";
import { ENTRY_POINTS, IMAGE_APP_DIR } from "../../harness/runtime/container/image-inputs.ts";
import { LABEL_HARNESS, LABEL_RUN, LABEL_SERVICE } from "../../harness/runtime/container/labels.ts";
import { describeContainers, runResources } from "./support.ts";

const CLI = "harness/cli/main.ts";
const contexts: string[] = [];
let standIn: string | undefined;

afterAll(async () => {
  for (const dir of contexts) rmSync(dir, { recursive: true, force: true });
  if (standIn !== undefined)
    await (
      await dockerClient()
    ).container.dockerode
      .getImage(standIn)
      .remove({ force: true })
      .catch(() => undefined);
});

/** An image from the pipeline image that runs the fault proxy as a Toxiproxy image would. */
async function buildStandIn(): Promise<string> {
  await dockerClient();
  const pipeline = await buildPipelineImage();
  const context = mkdtempSync(path.join(tmpdir(), "spillway-toxiproxy-standin-"));
  contexts.push(context);
  const script = path.posix.join(IMAGE_APP_DIR, ENTRY_POINTS.toxiproxy);
  writeFileSync(
    path.join(context, "Dockerfile"),
    `FROM ${pipeline.name}\nCMD ${JSON.stringify([script, "-host=0.0.0.0"])}\nEXPOSE 8474\n`,
  );
  const name = `spillway-toxiproxy-standin:${pipeline.hash}`;
  standIn = name;
  await GenericContainer.fromDockerfile(context).build(name, { deleteOnExit: false });
  return name;
}

describeContainers("--toxiproxy-image on a private network", () => {
  it(
    "network-partition on legacy-2024 through the named Toxiproxy image: the link fault loses events silently",
    { timeout: 180_000 },
    async () => {
      const image = await buildStandIn();
      const harness = execa(
        process.execPath,
        [
          CLI,
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
        { reject: false, stdin: "ignore", all: true, timeout: 150_000 },
      );
      // Which image the run's proxy container is made of, seen while the run is under way.
      const docker = (await dockerClient()).container.dockerode;
      let proxyImage: string | undefined;
      let run: string | undefined;
      let finished = false;
      void harness.finally(() => (finished = true));
      const watching = (async () => {
        while (!finished && proxyImage === undefined) {
          const proxies = await docker.listContainers({
            all: true,
            filters: { label: [`${LABEL_SERVICE}=toxiproxy`] },
          });
          const mine = proxies.find((info) =>
            info.Labels[LABEL_HARNESS]?.includes(`:${harness.pid}:`),
          );
          if (mine !== undefined) {
            proxyImage = mine.Image;
            run = mine.Labels[LABEL_RUN];
          } else await new Promise((resolve) => setTimeout(resolve, 250));
        }
      })();
      const result = await harness;
      await watching;
      expect(result.exitCode, result.all).toBe(0);
      expect(proxyImage).toBe(image);
      expect(result.all).toMatch(/^no-silent-loss +violated ✓$/m);
      expect(result.all).toMatch(/^lost silently +[1-9][\d,]* \(/m);
      expect(result.all).toMatch(/^as expected +yes$/m);
      // The run removed what it made, the proxy container included.
      const left = await runResources();
      expect(left.containers.filter((container) => container.run === run)).toEqual([]);
      expect(left.networks.filter((network) => network.run === run)).toEqual([]);
    },
  );
});
