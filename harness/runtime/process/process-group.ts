// A process group as Linux's /proc shows it: its live members, their summed memory, one signal to
// all of them. A third-party service runs as a group of its own (docs/targets.md), since what
// it forks (workers, a shell's children) must be paused, killed and measured with it.

import { readdir, readFile, readlink } from "node:fs/promises";
import { parseStat, readRssBytes, readStat, type ProcStat } from "./proc.ts";

export interface GroupMember {
  pid: number;
  command: string;
  /** Clock ticks after boot (see ProcStat.startTime). */
  startTime: string;
  /** T while stopped (paused). */
  state: string;
}

/** Every live process as /proc lists it; one that ends while it is read is left out. */
async function liveProcesses(): Promise<(ProcStat & { pid: number })[]> {
  const pids = (await readdir("/proc")).filter((name) => /^\d+$/.test(name));
  const processes = await Promise.all(
    pids.map(async (name) => {
      const text = await readFile(`/proc/${name}/stat`, "utf8").catch(() => undefined);
      const stat = text === undefined ? undefined : parseStat(text);
      // A zombie is dead: it only waits to be reaped, which a non-reaping init may never do.
      if (stat === undefined || stat.state === "Z") return [];
      return [{ pid: Number(name), ...stat }];
    }),
  );
  return processes.flat();
}

/** The live members of process group `pgid`, leader included while it lives. */
export async function groupMembers(pgid: number): Promise<GroupMember[]> {
  return (await liveProcesses()).filter((member) => member.pgrp === pgid).map(asMember);
}

function asMember({ pid, command, startTime, state }: ProcStat & { pid: number }): GroupMember {
  return { pid, command, startTime, state };
}

/** The summed resident memory of group `pgid`, or undefined when no process of it is left. */
export async function groupRssBytes(pgid: number): Promise<number | undefined> {
  const members = await groupMembers(pgid);
  if (members.length === 0) return undefined;
  const sizes = await Promise.all(members.map((member) => readRssBytes(member.pid)));
  return sizes.reduce<number>((sum, size) => sum + (size ?? 0), 0);
}

/** Sends `signal` to every process of group `pgid`; false when none is left to receive it. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  // kill(-0) and kill(-1) would reach the harness's own group, or every process it may signal.
  if (!Number.isInteger(pgid) || pgid <= 1) throw new Error(`process group ${pgid} is not one`);
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ESRCH") return false;
    throw error;
  }
}

/**
 * Whether group `pgid` still has live members and is the group whose leader started at
 * `leaderStartTime` (so that a signal to it cannot reach strangers): its leader is that process,
 * even as a zombie, or is gone. Linux gives no new process a pid that is still some group's id,
 * so the members of a group whose leader is gone are that leader's own.
 */
export async function groupStillOurs(pgid: number, leaderStartTime: string): Promise<boolean> {
  const leader = readStat(pgid);
  if (leader !== undefined && leader.startTime !== leaderStartTime) return false;
  return (await groupMembers(pgid)).length > 0;
}

/** `pid 12 (sleep), pid 13 (sh)`, for error messages. */
export function describeMembers(members: readonly GroupMember[]): string {
  return members.map((member) => `pid ${member.pid} (${member.command})`).join(", ");
}

/**
 * How a service's processes are known when they leave its group (a program that daemonised calls
 * setsid): an entry in their environment, and a file they hold open, since a daemon may clear
 * the one (redis-server rewrites its environment as its process title) or close the other.
 */
export interface ProcessMark {
  /** `NAME=value`. */
  environmentEntry: string;
  /** The path of a file every process of the service inherits open. */
  openFile: string;
  /** The start time (ProcStat.startTime) of its first process: none of its own is older. */
  since: string;
}

/** The live processes of group `pgid` and those, wherever their group is, that carry `mark`. */
export async function groupAndMarked(pgid: number, mark: ProcessMark): Promise<GroupMember[]> {
  const processes = await liveProcesses();
  const found = await Promise.all(
    processes.map(async (candidate) =>
      candidate.pgrp === pgid ||
      (Number(candidate.startTime) >= Number(mark.since) &&
        (await carriesMark(candidate.pid, mark)))
        ? [asMember(candidate)]
        : [],
    ),
  );
  return found.flat();
}

/** Another user's process cannot be read, and is no child of ours: it carries no mark. */
async function carriesMark(pid: number, mark: ProcessMark): Promise<boolean> {
  const environment = await readFile(`/proc/${pid}/environ`, "utf8").catch(() => "");
  if (environment.split("\0").includes(mark.environmentEntry)) return true;
  const fds = await readdir(`/proc/${pid}/fd`).catch(() => []);
  const targets = await Promise.all(
    fds.map((fd) => readlink(`/proc/${pid}/fd/${fd}`).catch(() => "")),
  );
  // A file removed since (its run directory was) reads as `<path> (deleted)`.
  return targets.some(
    (target) => target === mark.openFile || target === `${mark.openFile} (deleted)`,
  );
}
