// The watchdog process: `node watchdog-main.ts`, fed by the harness on stdin with lines
//   guard <pid> <startTime>            release <pid>
//   guard-group <pgid> <startTime>     release-group <pgid>
// When stdin ends (the harness exited or was SIGKILLed), every guarded process and every process
// of a guarded group still alive is sent SIGTERM and SIGCONT, and SIGKILLed after a grace
// period. It exists for what cannot watch the harness itself: a component paused with SIGSTOP
// runs no code, so it would never notice that its harness is gone, and third-party software
// (a target's services, run as process groups) does not watch its parent at all.

import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { readStat } from "./proc.ts";
import { groupMembers, groupStillOurs, signalGroup } from "./process-group.ts";

const GRACE_MS = 5_000;
const POLL_MS = 100;

const guarded = new Map<number, string>();
const guardedGroups = new Map<number, string>();

function stillGuarded(pid: number, startTime: string): boolean {
  const stat = readStat(pid);
  return stat !== undefined && stat.state !== "Z" && stat.startTime === startTime;
}

function signal(pids: readonly number[], name: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, name);
    } catch {
      // Gone in the meantime: nothing to do.
    }
  }
}

function signalGroups(pgids: readonly number[], name: NodeJS.Signals): void {
  for (const pgid of pgids) {
    try {
      signalGroup(pgid, name);
    } catch {
      // Not ours to signal (EPERM): nothing the watchdog can do.
    }
  }
}

/** Those of `pgids` that still have a live process. */
async function withMembers(pgids: readonly number[]): Promise<number[]> {
  const members = await Promise.all(pgids.map(groupMembers));
  return pgids.filter((_, index) => (members[index] ?? []).length > 0);
}

async function releaseAll(): Promise<void> {
  const alive = () =>
    [...guarded].filter(([pid, start]) => stillGuarded(pid, start)).map(([pid]) => pid);
  // Checked once, now: a group with members cannot change hands later (see groupStillOurs).
  const checked = await Promise.all(
    [...guardedGroups].map(([pgid, start]) => groupStillOurs(pgid, start)),
  );
  const groups = [...guardedGroups.keys()].filter((_, index) => checked[index] === true);
  for (const name of ["SIGTERM", "SIGCONT"] as const) {
    signal(alive(), name);
    signalGroups(groups, name);
  }
  const deadline = Date.now() + GRACE_MS;
  while ((alive().length > 0 || (await withMembers(groups)).length > 0) && Date.now() < deadline)
    await sleep(POLL_MS);
  signal(alive(), "SIGKILL");
  signalGroups(await withMembers(groups), "SIGKILL");
  process.exit(0);
}

const commands = createInterface({ input: process.stdin, crlfDelay: Infinity });
commands.on("line", (line) => {
  const [command, id, startTime] = line.split(" ");
  if (command === "guard" && startTime !== undefined) guarded.set(Number(id), startTime);
  if (command === "release") guarded.delete(Number(id));
  if (command === "guard-group" && startTime !== undefined)
    guardedGroups.set(Number(id), startTime);
  if (command === "release-group") guardedGroups.delete(Number(id));
});
commands.on("close", () => void releaseAll());

// Signals meant for the harness's process group (Ctrl-C) must not end the watch: the harness
// releases every process and closes stdin when it is done.
for (const name of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(name, () => {});
