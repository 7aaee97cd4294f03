// Which harness process made something (a container, a run directory), as
// `<host>:<pid>:<process start time>`: a pid alone could have been reused by the time
// `spillway clean` asks whether its maker still runs.

import { hostname } from "node:os";
import { readStat } from "./process/proc.ts";

/** A live process as `<host>:<pid>:<start time>`; a zombie is dead (it only awaits reaping). */
export function processIdentity(pid: number): string | undefined {
  const stat = readStat(pid);
  return stat === undefined || stat.state === "Z"
    ? undefined
    : `${hostname()}:${pid}:${stat.startTime}`;
}

/** This harness process. */
export function harnessIdentity(): string | undefined {
  return processIdentity(process.pid);
}

/** Whether the harness named by an identity still runs on this host. */
export function harnessAlive(identity: string | undefined): boolean {
  if (identity === undefined) return false;
  const [host, pid] = identity.split(":");
  return host === hostname() && processIdentity(Number(pid)) === identity;
}
