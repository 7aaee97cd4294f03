// A service that cannot start says why, with its last log lines, and leaves nothing running: a
// program that daemonised (its leader exits at once), or one that is not installed.

import { existsSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { groupMembers } from "../../../harness/runtime/process/process-group.ts";
import { isAlive } from "../../../harness/runtime/process/proc.ts";
import { resolveProgram } from "../../../harness/target/service/executable.ts";
import { closedPort } from "../../toxiproxy/helpers.ts";
import { eventually } from "../../runtime/support.ts";
import {
  eventKinds,
  redisCommand,
  redisPing,
  redisServerMissing,
  settledCommands,
  startedPid,
  useTargetServices,
} from "./support.ts";
import { useTempDir } from "../../support/temp-dir.ts";

const { create } = useTargetServices();
const emptyDir = useTempDir("spillway-empty-path-");

/** The pids an error message says were left running (`pid 12 (sleep)`). */
function pidsNamed(message: string, command: string): number[] {
  return [...message.matchAll(new RegExp(`pid (\\d+) \\(${command}\\)`, "g"))].map((match) =>
    Number(match[1]),
  );
}

it("a leader that exits before it is ready (it daemonised) is an error with its log, and what it forked is ended", async () => {
  const port = await closedPort();
  const { service, events } = create({
    command: ["sh", "-c", "echo going to the background; sleep 30 & exit 0"],
    readiness: { tcp: { host: "127.0.0.1", port } },
  });
  const error = await service.start().then(
    () => new Error("started"),
    (failure: unknown) => failure as Error,
  );
  expect(error.message).toMatch(
    /^service "service-\d+" \(sh\) exited at once \(exit code 0\) before it was ready: if it daemonised, run it in the foreground \(rsyslogd -n, redis-server --daemonize no\); it left pid \d+ \(sleep\) running, now ended; its last log lines \(all in .*\):\n {2}going to the background$/,
  );
  const [sleeper] = pidsNamed(error.message, "sleep");
  expect(sleeper !== undefined && isAlive(sleeper)).toBe(false);
  expect(await groupMembers(startedPid(events))).toEqual([]);
  expect(eventKinds(events)).toEqual(["started", "exited:crash"]);
  expect(service.state()).toBe("exited");
});

describe.skipIf(redisServerMissing())("with redis-server", () => {
  it("redis-server --daemonize yes leaves its own process group; it is found and ended all the same", async () => {
    const port = await closedPort();
    const { service, dataDir } = create({
      command: redisCommand(port, ".", "--daemonize", "yes", "--pidfile", "redis.pid"),
      readiness: { tcp: { host: "127.0.0.1", port } },
    });
    const error = await service.start().then(
      () => new Error("started"),
      (failure: unknown) => failure as Error,
    );
    expect(error.message).toContain(
      "(redis-server) exited at once (exit code 0) before it was ready: if it daemonised",
    );
    const daemons = pidsNamed(error.message, "redis-server");
    expect(daemons).toHaveLength(1);
    expect(daemons.filter(isAlive)).toEqual([]);
    // Nothing answers on its port any more (the daemon may have been killed before it listened).
    await expect(redisPing(port)).rejects.toThrow("ECONNREFUSED");
    expect(existsSync(dataDir)).toBe(true);
  });
});

it("a program not on PATH names the Debian package that provides it, and starts nothing", async () => {
  const { service, events } = create({
    name: "missing",
    command: ["spillway-no-such-program", "--foreground"],
    env: { PATH: emptyDir },
    packageHint: "spillway-tools",
    readiness: { logLine: /ready/ },
  });
  await expect(service.start()).rejects.toThrow(
    'service "missing": "spillway-no-such-program" is not on PATH; it comes with the Debian package spillway-tools (apt-get install spillway-tools)',
  );
  expect(events.list()).toEqual([]);
  expect(service.state()).toBe("exited");
});

it.for([
  [
    "syslog-ng",
    '"syslog-ng" is not on PATH; it comes with the Debian package syslog-ng-core (apt-get install syslog-ng-core)',
  ],
  [
    "vector",
    `"vector" is not on PATH; it comes with the package vector from its project's own apt repository (not in Debian)`,
  ],
  ["spillway-unknown", '"spillway-unknown" is not on PATH; install it, or give its full path'],
  [
    "rsyslogd",
    `"rsyslogd" is not on PATH (${emptyDir}) but is at /usr/sbin/rsyslogd: add /usr/sbin to PATH, or give the full path`,
  ],
] as const)("%s, not on PATH, is named with where to get it", ([program, message], context) => {
  // Found in /usr/sbin or not, depending on what this machine has installed.
  const installed = existsSync(`/usr/sbin/${program}`);
  if (installed !== message.includes("/usr/sbin")) context.skip();
  expect(() => resolveProgram(program, { pathVariable: emptyDir })).toThrow(message);
});

it("a leader that crashes after it was ready takes its whole group down: the exit is a crash", async () => {
  const { service, events } = create({
    command: ["sh", "-c", "echo up; sleep 1000 & sleep 0.5; exit 3"],
    readiness: { logLine: /up/ },
  });
  await service.start();
  const pgid = startedPid(events);
  // Its background child, which outlives the shell unless the group is ended.
  expect(await settledCommands(pgid, ["sh", "sleep", "sleep"])).toContain("sleep");
  expect(await eventually(() => service.state() === "exited", 3_000)).toBe(true);
  expect(events.list().at(-1)).toMatchObject({ kind: "exited", cause: "crash", code: 3 });
  expect(await eventually(async () => (await groupMembers(pgid)).length === 0, 3_000)).toBe(true);
  // kill() after a crash makes sure of it, and returns how it exited.
  expect(await service.kill()).toEqual({ code: 3, signal: null });
});
