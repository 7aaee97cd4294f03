// The container suite runs where a Docker engine answers. In CI (CI set, see ./ci.ts) it must
// run: no engine is a failure, not a skip. Elsewhere it is skipped with the reason, in one line.

import { execa } from "execa";
import { readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe } from "vitest";
import { dockerClient, dockerUnavailable } from "../../harness/runtime/container/docker.ts";
import { LABEL_HARNESS, LABEL_RUN, LABEL_SERVICE } from "../../harness/runtime/container/labels.ts";
import { RUN_DIR_PREFIX } from "../../harness/runtime/run-dir.ts";
import { inContinuousIntegration } from "./ci.ts";

export const DOCKER_UNAVAILABLE = await dockerUnavailable();

if (DOCKER_UNAVAILABLE !== undefined && inContinuousIntegration(process.env.CI)) {
  throw new Error(
    `CI is ${JSON.stringify(process.env.CI)}, so the container suite must run, but ${DOCKER_UNAVAILABLE}`,
  );
}

if (DOCKER_UNAVAILABLE !== undefined)
  process.stderr.write(`container suite skipped: ${DOCKER_UNAVAILABLE}\n`);

/** `describe` when Docker answers; otherwise skipped, with the reason in the suite's name. */
export function describeContainers(name: string, body: () => void): void {
  if (DOCKER_UNAVAILABLE === undefined) describe(name, body);
  else describe.skip(`${name} (skipped: ${DOCKER_UNAVAILABLE})`, body);
}

const CLI = path.resolve("harness/cli/main.ts");

export function spillway(args: readonly string[], options: { timeout: number }) {
  return execa(process.execPath, [CLI, ...args], {
    reject: false,
    timeout: options.timeout,
  });
}

export interface RunContainer {
  id: string;
  run: string;
  harness: string | undefined;
  service: string | undefined;
  /** The image it was created from, as named at creation. */
  image: string;
}

export interface Leftovers {
  containers: RunContainer[];
  networks: Array<{ name: string; run: string }>;
}

/** Every container and network labelled with a Spillway run id, on this engine. */
export async function runResources(): Promise<Leftovers> {
  const docker = (await dockerClient()).container.dockerode;
  const filters = { label: [LABEL_RUN] };
  const containers = await docker.listContainers({ all: true, filters });
  const networks = await docker.listNetworks({ filters });
  return {
    containers: containers.map((info) => ({
      id: info.Id,
      run: info.Labels[LABEL_RUN] ?? "",
      harness: info.Labels[LABEL_HARNESS],
      service: info.Labels[LABEL_SERVICE],
      image: info.Image,
    })),
    networks: networks.map((info) => ({ name: info.Name, run: info.Labels?.[LABEL_RUN] ?? "" })),
  };
}

/** The containers made by the harness process `pid`. */
export async function containersOf(pid: number): Promise<RunContainer[]> {
  return (await runResources()).containers.filter((container) =>
    container.harness?.includes(`:${pid}:`),
  );
}

/** The run directories (spillway-run-* under the temp directory) of one run. */
export function runDirsOf(runId: string): string[] {
  return readdirSync(tmpdir())
    .filter((name) => name.startsWith(RUN_DIR_PREFIX))
    .map((name) => path.join(tmpdir(), name))
    .filter((dir) => {
      try {
        const owner = JSON.parse(readFileSync(path.join(dir, "harness.json"), "utf8")) as {
          run?: string;
        };
        return owner.run === runId;
      } catch {
        return false;
      }
    });
}
