// What Linux's /proc says about a process: alive or not, its start time, its resident memory.

import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";

export interface ProcStat {
  /** The executable's name as the kernel keeps it (at most 15 characters). */
  command: string;
  /** R, S, D, T (stopped), Z (zombie)... */
  state: string;
  ppid: number;
  /** Its process group: the pid of the group's leader. */
  pgrp: number;
  /** Clock ticks after boot: with the pid, identifies one process even if pids are reused. */
  startTime: string;
  /** CPU time spent so far, user plus system, in clock ticks (USER_HZ, 100 a second on Linux). */
  cpuTicks: number;
}

/** Clock ticks a second in /proc (USER_HZ): 100 on every Linux architecture Node supports. */
export const PROC_TICKS_PER_SECOND = 100;

/** The text of /proc/<pid>/stat, parsed; undefined when it is not one. */
export function parseStat(text: string): ProcStat | undefined {
  // The command name (field 2) may hold spaces and parentheses; the fields after it do not.
  const commandEnd = text.lastIndexOf(")");
  const fields = text.slice(commandEnd + 2).split(" ");
  const [state, ppid, pgrp] = fields;
  const [userTicks, systemTicks] = [fields[11], fields[12]];
  const startTime = fields[19];
  if (state === undefined || pgrp === undefined || startTime === undefined) return undefined;
  const command = text.slice(text.indexOf("(") + 1, commandEnd);
  const cpuTicks = Number(userTicks) + Number(systemTicks);
  return { command, state, ppid: Number(ppid), pgrp: Number(pgrp), startTime, cpuTicks };
}

export function readStat(pid: number): ProcStat | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

/**
 * Whether `pid` is a live process. A zombie is dead: it only waits to be reaped, which an
 * init that does not reap (as in some containers) may never do.
 */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
  return readStat(pid)?.state !== "Z";
}

/** Resident set size in bytes, or undefined once the process is gone. */
export async function readRssBytes(pid: number): Promise<number | undefined> {
  let status: string;
  try {
    status = await readFile(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return match === null ? undefined : Number(match[1]) * 1024;
}
