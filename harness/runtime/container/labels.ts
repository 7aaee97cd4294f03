// What Spillway writes on every container, network and image it creates, beside testcontainers'
// own labels (org.testcontainers=true...): which run made it, so that a run removes its own and
// `spillway clean` finds what crashed runs left.

import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { hostname } from "node:os";
import { readStat } from "../process/proc.ts";

/** testcontainers' marker label, on everything it creates. */
export const LABEL_TESTCONTAINERS = "org.testcontainers";
const TESTCONTAINERS_VERSION = (
  createRequire(import.meta.url)("testcontainers/package.json") as { version: string }
).version;

/** Every container and network of a run: its run id. */
export const LABEL_RUN = "spillway.run";
/** The service a container runs (or "toxiproxy"). */
export const LABEL_SERVICE = "spillway.service";
/** The pipeline image: the content hash of everything in it. */
export const LABEL_IMAGE_HASH = "spillway.image-hash";

/**
 * The harness process that made a container or network, as `<host>:<pid>:<start time>`, so that
 * `spillway clean` leaves a live run alone (pids are reused; with the start time they are not).
 */
export const LABEL_HARNESS = "spillway.harness";

export function newRunId(): string {
  return randomUUID().slice(0, 12);
}

/** A live process as `<host>:<pid>:<start time>`; a zombie is dead (it only awaits reaping). */
function processIdentity(pid: number): string | undefined {
  const stat = readStat(pid);
  return stat === undefined || stat.state === "Z"
    ? undefined
    : `${hostname()}:${pid}:${stat.startTime}`;
}

export function runLabels(runId: string): Record<string, string> {
  const harness = processIdentity(process.pid);
  return { [LABEL_RUN]: runId, ...(harness === undefined ? {} : { [LABEL_HARNESS]: harness }) };
}

/** Whether the harness named by a LABEL_HARNESS value still runs on this host. */
export function harnessAlive(label: string | undefined): boolean {
  if (label === undefined) return false;
  const [host, pid] = label.split(":");
  return host === hostname() && processIdentity(Number(pid)) === label;
}

/** testcontainers' own labels, for what Spillway creates through the raw client (networks). */
export function testcontainersLabels(): Record<string, string> {
  return {
    [LABEL_TESTCONTAINERS]: "true",
    "org.testcontainers.lang": "node",
    "org.testcontainers.version": TESTCONTAINERS_VERSION,
  };
}
