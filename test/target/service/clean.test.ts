// Nothing of a target's services is left behind by a harness that dies: the watchdog ends the
// groups it guards, paused or not, and `spillway clean` ends those recorded in a dead harness's
// run directory, and only those still the same processes, before it removes the directory.

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { afterEach, expect, it } from "vitest";
import { formatDirs } from "../../../harness/cli/clean-command.ts";
import { recordGroup } from "../../../harness/runtime/process/group-record.ts";
import { readStat } from "../../../harness/runtime/process/proc.ts";
import { groupMembers, signalGroup } from "../../../harness/runtime/process/process-group.ts";
import { startWatchdog } from "../../../harness/runtime/process/watchdog.ts";
import { cleanRunDirs } from "../../../harness/runtime/run-dir.ts";
import { settledCommands } from "./support.ts";
import { useTempDir } from "../../support/temp-dir.ts";

const root = useTempDir("spillway-target-clean-test-");
const groups: number[] = [];
afterEach(() => {
  for (const pgid of groups.splice(0)) signalGroup(pgid, "SIGKILL");
});

/** A shell and its two children in a group of their own, as a target's service runs. */
async function startGroup(): Promise<{ pgid: number; startTime: string }> {
  const child = spawn("sh", ["-c", "sleep 1000 & sleep 1000"], { detached: true, stdio: "ignore" });
  const pgid = child.pid;
  if (pgid === undefined) throw new Error("sh did not start");
  groups.push(pgid);
  expect(await settledCommands(pgid, ["sh", "sleep", "sleep"])).toEqual(["sh", "sleep", "sleep"]);
  return { pgid, startTime: readStat(pgid)?.startTime ?? "" };
}

/** A run dir as a harness that has since died left it (a pid above pid_max cannot run). */
function deadHarnessRunDir(name: string): string {
  const dir = path.join(root, `spillway-run-${name}`);
  mkdirSync(path.join(dir, "logs"), { recursive: true });
  writeFileSync(
    path.join(dir, "harness.json"),
    JSON.stringify({ harness: `${hostname()}:4194305:1` }),
  );
  return dir;
}

it("clean ends the groups recorded by a dead harness that still run, then removes the dir", async () => {
  const dir = deadHarnessRunDir("dead");
  const relay = await startGroup();
  recordGroup(dir, { name: "relay", ...relay });
  // A group that ended long ago and whose id now leads another process: never signalled.
  const stranger = await startGroup();
  recordGroup(dir, { name: "old-relay", pgid: stranger.pgid, startTime: "1" });

  const dryRun = await cleanRunDirs({ root, dryRun: true });
  const description = `relay (process group ${relay.pgid}, in ${dir})`;
  expect(dryRun.endedGroups).toEqual([description]);
  expect(await groupMembers(relay.pgid)).toHaveLength(3);

  const report = await cleanRunDirs({ root });
  expect(report).toEqual({ removed: [dir], live: [], endedGroups: [description] });
  expect(formatDirs(report, false).split("\n")[0]).toBe(`ended 1 process groups: ${description}`);
  expect(existsSync(dir)).toBe(false);
  expect(await settledCommands(relay.pgid, [])).toEqual([]);
  expect(await groupMembers(stranger.pgid)).toHaveLength(3);
});

it("the watchdog ends a guarded group, paused, once its harness is gone (its stdin ends)", async () => {
  const watchdog = startWatchdog(process.execPath);
  const paused = await startGroup();
  const released = await startGroup();
  watchdog.guardGroup(paused.pgid);
  watchdog.guardGroup(released.pgid);
  watchdog.releaseGroup(released.pgid);
  signalGroup(paused.pgid, "SIGSTOP");
  // What a harness killed with SIGKILL does to the watchdog: its end of the pipe closes.
  await watchdog.close();
  expect(await settledCommands(paused.pgid, [])).toEqual([]);
  expect(await groupMembers(released.pgid)).toHaveLength(3);
});
