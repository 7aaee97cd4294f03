// Removes what runs left behind: the containers and networks labelled spillway.run whose harness
// is gone (a SIGKILLed harness cannot clean up, and Ryuk is off by default), and with `images`
// the cached pipeline images too. Images left half-built by an interrupted build (dangling and
// labelled) are always removed.

import { dockerClient } from "./docker.ts";
import { harnessAlive, LABEL_HARNESS, LABEL_IMAGE_HASH, LABEL_RUN } from "./labels.ts";

export interface CleanOptions {
  /** Only this run's leftovers. */
  runId?: string;
  /** Also the leftovers of runs whose harness still runs (they will fail). */
  all?: boolean;
  /** Also the cached pipeline images. */
  images?: boolean;
  /** List only; remove nothing. */
  dryRun?: boolean;
}

export interface CleanReport {
  containers: string[];
  networks: string[];
  images: string[];
  /** Runs left alone because their harness still runs. */
  live: string[];
}

interface Labelled {
  name: string;
  labels: Record<string, string>;
  remove(): Promise<unknown>;
}

/** Docker answers 404 for what is already gone and 409 for a removal already under way. */
async function removeQuietly(item: Labelled): Promise<void> {
  try {
    await item.remove();
  } catch (error) {
    const status = (error as { statusCode?: number }).statusCode;
    if (status !== 404 && status !== 409) throw error;
  }
}

export async function cleanLeftovers(options: CleanOptions = {}): Promise<CleanReport> {
  const docker = (await dockerClient()).container.dockerode;
  const runFilter = {
    label: [options.runId === undefined ? LABEL_RUN : `${LABEL_RUN}=${options.runId}`],
  };
  const containers: Labelled[] = (
    await docker.listContainers({ all: true, filters: runFilter })
  ).map((info) => ({
    name: `${info.Names[0]?.replace(/^\//, "") ?? info.Id.slice(0, 12)} (${info.Id.slice(0, 12)})`,
    labels: info.Labels,
    remove: () => docker.getContainer(info.Id).remove({ force: true, v: true }),
  }));
  const networks: Labelled[] = (await docker.listNetworks({ filters: runFilter })).map((info) => ({
    name: info.Name,
    labels: info.Labels ?? {},
    remove: () => docker.getNetwork(info.Id).remove(),
  }));
  const live = new Set<string>();
  const leftovers = (items: Labelled[]): Labelled[] =>
    items.filter((item) => {
      if (options.all === true || !harnessAlive(item.labels[LABEL_HARNESS])) return true;
      live.add(item.labels[LABEL_RUN] ?? "?");
      return false;
    });
  const report: CleanReport = { containers: [], networks: [], images: [], live: [] };
  // Containers first: a network or an image in use cannot be removed.
  for (const [kind, items] of [
    ["containers", leftovers(containers)],
    ["networks", leftovers(networks)],
  ] as const) {
    if (options.dryRun !== true) await Promise.all(items.map((item) => removeQuietly(item)));
    report[kind].push(...items.map((item) => item.name));
  }
  const images = await docker.listImages({
    filters: {
      label: [LABEL_IMAGE_HASH],
      ...(options.images === true ? {} : { dangling: ["true"] }),
    },
  });
  for (const image of images) {
    const name = image.RepoTags?.find((tag) => tag !== "<none>:<none>") ?? image.Id;
    if (options.dryRun !== true)
      await removeQuietly({ name, labels: {}, remove: () => docker.getImage(image.Id).remove() });
    report.images.push(name);
  }
  report.live = [...live];
  return report;
}
