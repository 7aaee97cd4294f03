// The harness's side of the watchdog (see watchdog-main.ts): one per running topology.

import { execa } from "execa";
import { fileURLToPath } from "node:url";
import { readStat } from "./proc.ts";

const WATCHDOG_SCRIPT = fileURLToPath(new URL("./watchdog-main.ts", import.meta.url));

export interface Watchdog {
  /** From now on, `pid` is ended if the harness dies without releasing it. */
  guard(pid: number): void;
  release(pid: number): void;
  /** From now on, every process of group `pgid` is ended if the harness dies without releasing it. */
  guardGroup(pgid: number): void;
  releaseGroup(pgid: number): void;
  /** Ends the watchdog; call once every guarded process has been released. */
  close(): Promise<void>;
}

export function startWatchdog(node: string): Watchdog {
  const subprocess = execa(node, [WATCHDOG_SCRIPT], {
    stdin: "pipe",
    stdout: "ignore",
    stderr: "ignore",
    reject: false,
    cleanup: false,
    forceKillAfterDelay: false,
  });
  // Writes after the watchdog died (it should not) are not worth crashing the harness for.
  subprocess.stdin.on("error", () => {});
  const send = (line: string): void => {
    if (subprocess.stdin.writable) subprocess.stdin.write(`${line}\n`);
  };
  return {
    guard(pid) {
      const stat = readStat(pid);
      if (stat !== undefined) send(`guard ${pid} ${stat.startTime}`);
    },
    release(pid) {
      send(`release ${pid}`);
    },
    guardGroup(pgid) {
      // The leader's start time tells the group from a later one with the same id.
      const leader = readStat(pgid);
      if (leader !== undefined) send(`guard-group ${pgid} ${leader.startTime}`);
    },
    releaseGroup(pgid) {
      send(`release-group ${pgid}`);
    },
    async close() {
      subprocess.stdin.end();
      await subprocess;
    },
  };
}
