// Process faults on a target's service act on its whole process group: kill, pause, resume,
// restart (same command, same port) and the memory cap, with events as the reference pipeline's.

import { existsSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { groupMembers } from "../../../harness/runtime/process/process-group.ts";
import { isAlive, readRssBytes } from "../../../harness/runtime/process/proc.ts";
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

const { create } = useTargetServices();

/** Starts a shell leading two children: a group of three. */
async function startShellGroup() {
  const { service, events } = create({
    command: ["sh", "-c", "echo up; sleep 1000 & sleep 1000"],
    readiness: { logLine: /^up$/ },
  });
  await service.start();
  const pgid = startedPid(events);
  expect(await settledCommands(pgid, ["sh", "sleep", "sleep"])).toEqual(["sh", "sleep", "sleep"]);
  return { service, events, pgid };
}

/** A shell whose child, a Node process, holds about 50 MB resident. */
function allocatingGroup(): string[] {
  const script =
    'const held = Buffer.alloc(50 * 2 ** 20, 1); console.log("allocated", held.length); setInterval(() => {}, 1000);';
  return ["sh", "-c", `"$0" -e '${script}' & wait`, process.execPath];
}

async function stoppedStates(pgid: number): Promise<string[]> {
  return (await groupMembers(pgid)).map((member) => member.state);
}

it("pause stops every process of its group, resume continues them", async () => {
  const { service, events, pgid } = await startShellGroup();
  await service.pause();
  expect(service.state()).toBe("paused");
  expect(
    await eventually(
      async () => (await stoppedStates(pgid)).every((state) => state === "T"),
      2_000,
    ),
  ).toBe(true);
  await service.resume();
  expect(
    await eventually(
      async () => (await stoppedStates(pgid)).every((state) => state !== "T"),
      2_000,
    ),
  ).toBe(true);
  expect(eventKinds(events)).toEqual(["started", "ready", "paused", "resumed"]);
});

it.for(["SIGKILL", "SIGTERM"] as const)(
  "kill(%s) of a paused group ends every process of it before it resolves",
  async (signal) => {
    const { service, events, pgid } = await startShellGroup();
    const pids = (await groupMembers(pgid)).map((member) => member.pid);
    await service.pause();
    expect(await service.kill(signal)).toEqual({ code: null, signal });
    expect(pids.filter(isAlive)).toEqual([]);
    expect(await groupMembers(pgid)).toEqual([]);
    expect(eventKinds(events)).toEqual([
      "started",
      "ready",
      "paused",
      "signalled",
      "exited:requested",
    ]);
    expect(service.state()).toBe("exited");
    expect(await service.memoryBytes()).toBeUndefined();
  },
);

it("memoryBytes sums the resident memory of every process of the group", async () => {
  const { service, events } = create({
    command: allocatingGroup(),
    readiness: { logLine: /^allocated/ },
  });
  await service.start();
  const leaderBytes = (await readRssBytes(startedPid(events))) ?? 0;
  const groupBytes = (await service.memoryBytes()) ?? 0;
  // The child's 50 MB are counted, beside the shell's own few.
  expect(groupBytes - leaderBytes).toBeGreaterThan(50 * 2 ** 20);
});

it("the memory cap SIGKILLs the whole group once its summed memory is over it", async () => {
  const { service, events } = create({
    command: allocatingGroup(),
    readiness: { logLine: /^allocated/ },
  });
  await service.start();
  const pgid = startedPid(events);
  const pids = (await groupMembers(pgid)).map((member) => member.pid);
  service.setMemoryCap(40);
  expect(await eventually(() => service.state() === "exited", 3_000)).toBe(true);
  const capEvent = events.list().find((event) => event.kind === "memory-cap-exceeded");
  expect(capEvent).toMatchObject({ capMb: 40 });
  expect(capEvent?.kind === "memory-cap-exceeded" && capEvent.rssMb).toBeGreaterThan(40);
  expect(events.list().at(-1)).toMatchObject({
    kind: "exited",
    cause: "memory-cap",
    signal: "SIGKILL",
  });
  expect(await eventually(() => pids.every((pid) => !isAlive(pid)), 3_000)).toBe(true);
  expect(() => service.setMemoryCap(0)).toThrow(`memory cap of "${service.name}" is 0 MB`);
});

it("restart runs the same command again; wipeData empties its data dir, its working dir by default", async () => {
  const { service, events, dataDir } = create({
    command: ["sh", "-c", "ls; echo up; exec sleep 1000"],
    readiness: { logLine: /^up$/ },
  });
  await service.start();
  writeFileSync(path.join(dataDir, "state.db"), "kept");
  await service.restart();
  expect(service.logs().map((line) => line.text)).toEqual(["up", "state.db", "up"]);
  await service.restart({ wipeData: true });
  expect(existsSync(path.join(dataDir, "state.db"))).toBe(false);
  expect(service.logs().map((line) => line.text)).toEqual(["up", "state.db", "up", "up"]);
  expect(eventKinds(events).filter((kind) => kind.startsWith("exited"))).toEqual([
    "exited:requested",
    "exited:requested",
  ]);
});

describe.skipIf(redisServerMissing())("with redis-server", () => {
  it("restart keeps its port: redis answers PING on the same port after a restart", async () => {
    const port = await closedPort();
    const { service, events } = create({
      command: redisCommand(port, "."),
      readiness: { tcp: { host: "127.0.0.1", port } },
    });
    await service.start();
    const firstPid = startedPid(events);
    await service.restart();
    expect(startedPid(events)).not.toBe(firstPid);
    expect(isAlive(firstPid)).toBe(false);
    expect(await redisPing(port)).toBe("+PONG");
    expect(eventKinds(events)).toEqual([
      "started",
      "ready",
      "signalled",
      "exited:requested",
      "started",
      "ready",
    ]);
    expect(events.list().find((event) => event.kind === "signalled")).toMatchObject({
      signal: "SIGTERM",
    });
  });
});
