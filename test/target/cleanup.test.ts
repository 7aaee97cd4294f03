// Nothing a run on a target starts is left behind (docs/targets.md, "Cleanup"), through the real
// command line on real rsyslog: SIGINT and SIGTERM mid-fault end the run with 130 and 143, an
// interrupted journal, no process of the run, no run directory and no port held; after a harness
// killed with SIGKILL, `spillway clean` ends what is left and removes the run directory.
//
// Each harness gets a TMPDIR of its own, so its run directory is the only one there: the
// processes of the run are found by that directory (in their command lines) and by the process
// groups it records, never by name, since other tests run rsyslogd at the same time.

import { execa, type ResultPromise } from "execa";
import { existsSync, mkdirSync, readdirSync, readFileSync } from "node:fs";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { realClock } from "../../pipeline/host/real-seam.ts";
import { recordedGroups } from "../../harness/runtime/process/group-record.ts";
import { groupMembers } from "../../harness/runtime/process/process-group.ts";
import { alive, descendants } from "../experiments/support.ts";
import { useTempDir } from "../support/temp-dir.ts";

const NODE = path.resolve("node_modules/.bin/node");
const CLI = path.resolve("harness/cli/main.ts");
const SHIPPED = path.resolve("targets/rsyslog-relay/link-reset.yaml");
const available = existsSync("/usr/sbin/rsyslogd");
if (!available && process.env.CI !== undefined)
  throw new Error("rsyslog must be installed on CI (.ci/run installs it)");

/** How long a wait for the run to reach its fault, or to end, may take on a busy machine. */
const WAIT_MS = 30_000;

const root = useTempDir("spillway-target-cleanup-test-");

/**
 * link-reset.yaml, shortened to reach its fault within a second or two, with relay-b paused for
 * the fault's whole length as well: a paused group is the hardest to end, and its state (T in
 * /proc) tells from outside that the method is under way.
 */
function experimentCopy(dir: string): string {
  const shipped = parseYaml(readFileSync(SHIPPED, "utf8")) as Record<string, unknown>;
  const [reset] = shipped.method as Array<{ fault: unknown }>;
  const copy = {
    ...shipped,
    target: path.resolve(path.dirname(SHIPPED), shipped.target as string),
    workload: { ...(shipped.workload as object), eventsPerSecond: 500 },
    duration: "60s",
    warmup: "200ms",
    steadyState: { deliveringWithin: "300ms" },
    method: [
      { at: "0s", for: "50s", fault: reset!.fault },
      { at: "0s", for: "50s", fault: { kind: "process.pause", service: "relay-b" } },
    ],
    drain: { timeout: "2s", quiet: "500ms" },
  };
  const file = path.join(dir, "link-reset-short.yaml");
  writeFileSync(file, stringifyYaml(copy));
  return file;
}

interface Run {
  harness: ResultPromise<{ reject: false; detached: true }>;
  pid: number;
  tmp: string;
  journal: string;
}

const runs: Run[] = [];

/** Last resort after a failed test: whatever of a run is left, ended. */
afterEach(async () => {
  for (const run of runs.splice(0)) {
    for (const pid of [run.pid, ...descendants(run.pid), ...(await processesOf(run.tmp))])
      if (alive(pid)) process.kill(pid, "SIGKILL");
    for (const dir of runDirs(run.tmp))
      for (const group of await recordedGroups(dir))
        for (const member of await groupMembers(group.pgid)) process.kill(member.pid, "SIGKILL");
    await run.harness;
  }
});

function startRun(name: string): Run {
  const dir = path.join(root, name);
  const tmp = path.join(dir, "tmp");
  mkdirSync(tmp, { recursive: true });
  const journal = path.join(dir, "journal.json");
  // Detached: a group of its own, which test (c) kills whole, as an OOM killer or `kill -9 --
  // -<pgid>` would, so that the watchdog goes with the harness.
  const harness = execa(NODE, [CLI, "run", experimentCopy(dir), "--journal", journal], {
    reject: false,
    detached: true,
    env: { TMPDIR: tmp },
  });
  const run = { harness, pid: harness.pid!, tmp, journal };
  runs.push(run);
  return run;
}

function runDirs(tmp: string): string[] {
  return readdirSync(tmp)
    .filter((entry) => entry.startsWith("spillway-run-"))
    .map((entry) => path.join(tmp, entry));
}

/** Live processes whose command line names a path under `tmp`: the run's services and recorders. */
async function processesOf(tmp: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let commandLine: string;
    try {
      commandLine = readFileSync(`/proc/${entry}/cmdline`, "utf8");
    } catch {
      continue;
    }
    if (commandLine.includes(tmp) && alive(Number(entry))) found.push(Number(entry));
  }
  return found;
}

/** Every port a relay listens on or forwards to, and the recorder's, from the rendered files. */
function portsOf(runDir: string): number[] {
  const ports: number[] = [];
  for (const relay of ["relay-a", "relay-b"]) {
    const config = readFileSync(path.join(runDir, "config", relay, "rsyslog.conf"), "utf8");
    for (const match of config.matchAll(/port="(\d+)"/g)) ports.push(Number(match[1]));
  }
  return ports;
}

/** Waits until the run's relay-b is paused by the method: its group's members stopped (T). */
async function untilFaultInForce(run: Run): Promise<{ runDir: string; pgids: number[] }> {
  const deadline = Date.now() + WAIT_MS;
  while (Date.now() < deadline) {
    const [runDir] = runDirs(run.tmp);
    if (runDir !== undefined) {
      const groups = await recordedGroups(runDir);
      const relayB = groups.find((group) => group.name === "relay-b");
      const members = relayB === undefined ? [] : await groupMembers(relayB.pgid);
      if (members.length > 0 && members.every((member) => member.state === "T"))
        return { runDir, pgids: groups.map((group) => group.pgid) };
    }
    await realClock.sleep(100);
  }
  throw new Error(`the run never paused relay-b within ${WAIT_MS} ms`);
}

/** Whether a port on 127.0.0.1 can be listened on again. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** Waits (bounded) until no process of the run is left; returns those that are. */
async function leftovers(run: Run, pgids: number[]): Promise<number[]> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const left = [
      ...(await processesOf(run.tmp)),
      ...descendants(run.pid),
      ...(await Promise.all(pgids.map(groupMembers))).flat().map((member) => member.pid),
    ];
    if (left.length === 0 || Date.now() > deadline) return left;
    await realClock.sleep(100);
  }
}

/** `spillway clean` of one temp dir, without Docker: other tests' containers are not its business. */
function spillwayClean(tmp: string) {
  return execa(NODE, [CLI, "clean"], {
    reject: false,
    env: { TMPDIR: tmp, DOCKER_HOST: "unix:///nonexistent/docker.sock" },
  });
}

describe.skipIf(!available)("cleanup of a run on a target, through the command line", () => {
  for (const [signal, code] of [
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const) {
    it(
      `${signal} mid-fault: exits ${code}, journals interrupted, leaves no process, directory or port`,
      async () => {
        const run = startRun(signal.toLowerCase());
        const { runDir, pgids } = await untilFaultInForce(run);
        const ports = portsOf(runDir);
        expect(ports.length).toBeGreaterThanOrEqual(4);
        expect(await processesOf(run.tmp)).not.toEqual([]);

        process.kill(run.pid, signal);
        const result = await run.harness;
        expect(result.exitCode).toBe(code);
        const journal = JSON.parse(readFileSync(run.journal, "utf8")) as {
          status: string;
          steps: Array<{ phase: string; name: string; ok: boolean }>;
        };
        expect(journal.status).toBe("interrupted");
        expect(journal.steps).toContainEqual(
          expect.objectContaining({ phase: "heal", name: "process.pause", ok: true }),
        );
        expect(await leftovers(run, pgids)).toEqual([]);
        expect(existsSync(runDir)).toBe(false);
        const held = [];
        for (const port of ports) if (!(await portFree(port))) held.push(port);
        expect(held).toEqual([]);
      },
      WAIT_MS * 2,
    );
  }

  it(
    "SIGKILL of the harness alone: its watchdog or spillway clean ends the groups, clean removes the run directory",
    async () => {
      const run = startRun("sigkill-harness");
      const { runDir, pgids } = await untilFaultInForce(run);
      process.kill(run.pid, "SIGKILL");
      await run.harness;
      const clean = await spillwayClean(run.tmp);
      expect(clean.exitCode).toBe(0);
      // The watchdog may have ended the groups before clean looked: either is right.
      const ended = clean.stdout.match(/^ended (\d+) process groups/m);
      if (ended !== null) expect(Number(ended[1])).toBeLessThanOrEqual(2);
      expect(clean.stdout).toContain(`removed 1 run directories: ${runDir}`);
      expect(existsSync(runDir)).toBe(false);
      expect(await leftovers(run, pgids)).toEqual([]);
    },
    WAIT_MS * 2,
  );

  it(
    "SIGKILL of the harness and its watchdog: spillway clean ends the groups left and removes the run directory",
    async () => {
      const run = startRun("sigkill");
      const { runDir, pgids } = await untilFaultInForce(run);
      // The harness's whole group: the harness, its watchdog and its recorders.
      process.kill(-run.pid, "SIGKILL");
      await run.harness;
      expect(await processesOf(run.tmp)).not.toEqual([]);

      const clean = await spillwayClean(run.tmp);
      expect(clean.exitCode).toBe(0);
      for (const name of ["relay-a", "relay-b"])
        expect(clean.stdout).toMatch(new RegExp(`${name} \\(process group \\d+, in ${runDir}\\)`));
      expect(clean.stdout).toContain(`removed 1 run directories: ${runDir}`);
      expect(existsSync(runDir)).toBe(false);
      expect(await leftovers(run, pgids)).toEqual([]);
    },
    WAIT_MS * 2,
  );
});
