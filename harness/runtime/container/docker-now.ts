// The docker CLI for a harness that is exiting (docs/architecture.md §3): when the event loop is
// gone only synchronous work is possible, so what the harness made is removed with `docker`
// commands run to completion. Without a CLI, or with the engine gone, `spillway clean` is the way
// left.

import { execFileSync } from "node:child_process";

/** At most this long for each docker CLI call. */
const DOCKER_NOW_TIMEOUT_MS = 15_000;

/** Runs `docker <args>` to completion; its stdout, or "" when it failed. */
export function dockerNow(...args: string[]): string {
  try {
    return execFileSync("docker", args, {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
      timeout: DOCKER_NOW_TIMEOUT_MS,
    });
  } catch {
    return "";
  }
}

/** Removes every container, running or not, that carries all of `labels` (`name=value`). */
export function removeContainersNow(labels: readonly string[]): void {
  const filters = labels.flatMap((label) => ["--filter", `label=${label}`]);
  const ids = dockerNow("ps", "--all", "--quiet", ...filters)
    .split("\n")
    .filter(Boolean);
  if (ids.length > 0) dockerNow("rm", "--force", "--volumes", ...ids);
}
