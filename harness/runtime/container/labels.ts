// What Spillway writes on every container, network and image it creates, beside testcontainers'
// own labels (org.testcontainers=true...): which run made it, so that a run removes its own and
// `spillway clean` finds what crashed runs left.

import { randomUUID } from "node:crypto";
import { createRequire } from "node:module";
import { harnessAlive, harnessIdentity } from "../harness-identity.ts";

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

export function runLabels(runId: string): Record<string, string> {
  const harness = harnessIdentity();
  return { [LABEL_RUN]: runId, ...(harness === undefined ? {} : { [LABEL_HARNESS]: harness }) };
}

export { harnessAlive };

/** testcontainers' own labels, for what Spillway creates through the raw client (networks). */
export function testcontainersLabels(): Record<string, string> {
  return {
    [LABEL_TESTCONTAINERS]: "true",
    "org.testcontainers.lang": "node",
    "org.testcontainers.version": TESTCONTAINERS_VERSION,
  };
}
