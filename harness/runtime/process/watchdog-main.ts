// The watchdog process: `node watchdog-main.ts`, fed by the harness on stdin with lines
//   guard <pid> <startTime>      release <pid>
// When stdin ends (the harness exited or was SIGKILLed), every guarded process still alive is
// sent SIGTERM and SIGCONT, and SIGKILLed after a grace period. It exists for the one case a
// component's own parent watch cannot handle: a component paused with SIGSTOP runs no code, so
// it would never notice that its harness is gone.

import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { readStat } from "./proc.ts";

const GRACE_MS = 5_000;
const POLL_MS = 100;

const guarded = new Map<number, string>();

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

async function releaseAll(): Promise<void> {
  const alive = () =>
    [...guarded].filter(([pid, start]) => stillGuarded(pid, start)).map(([pid]) => pid);
  signal(alive(), "SIGTERM");
  signal(alive(), "SIGCONT");
  const deadline = Date.now() + GRACE_MS;
  while (alive().length > 0 && Date.now() < deadline) await sleep(POLL_MS);
  signal(alive(), "SIGKILL");
  process.exit(0);
}

const commands = createInterface({ input: process.stdin, crlfDelay: Infinity });
commands.on("line", (line) => {
  const [command, pid, startTime] = line.split(" ");
  if (command === "guard" && startTime !== undefined) guarded.set(Number(pid), startTime);
  if (command === "release") guarded.delete(Number(pid));
});
commands.on("close", () => void releaseAll());

// Signals meant for the harness's process group (Ctrl-C) must not end the watch: the harness
// releases every process and closes stdin when it is done.
for (const name of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(name, () => {});
