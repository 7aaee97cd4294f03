// Shared by the target service tests: services made in a temp dir with one real watchdog per
// file, every one killed (its whole group) after its test, pass or fail, and the temp dir
// removed after the file.

import { mkdirSync, mkdtempSync } from "node:fs";
import { connect } from "node:net";
import path from "node:path";
import { afterAll, afterEach, beforeAll } from "vitest";
import { EventLog } from "../../../harness/runtime/events.ts";
import { groupMembers } from "../../../harness/runtime/process/process-group.ts";
import { ServiceLog } from "../../../harness/runtime/process/service-log.ts";
import { startWatchdog, type Watchdog } from "../../../harness/runtime/process/watchdog.ts";
import type { RuntimeEvent } from "../../../harness/runtime/runtime.ts";
import {
  TargetProcessService,
  type TargetProcessOptions,
} from "../../../harness/target/service/process-service.ts";
import { resolveProgram } from "../../../harness/target/service/executable.ts";
import { eventually } from "../../runtime/support.ts";
import { useTempDir } from "../../support/temp-dir.ts";

/** Quick polls and short waits: the programs here start in milliseconds. */
const TEST_LIMITS = { stopGraceMs: 2_000, killWaitMs: 3_000, healthPollMs: 20, memoryPollMs: 20 };

export type ServiceOptions = Partial<TargetProcessOptions> &
  Pick<TargetProcessOptions, "command" | "readiness">;

export interface TestService {
  service: TargetProcessService;
  events: EventLog;
  runDir: string;
  dataDir: string;
}

/** Registers the hooks; `create` makes a service (not started) whose name is unique in the file. */
export function useTargetServices(): { create(options: ServiceOptions): TestService } {
  const root = useTempDir("spillway-target-service-test-");
  let watchdog: Watchdog | undefined;
  const made: { service: TargetProcessService; log: ServiceLog }[] = [];
  beforeAll(() => {
    watchdog = startWatchdog(process.execPath);
  });
  afterEach(async () => {
    for (const { service, log } of made.splice(0)) {
      await service.kill().catch(() => service.killNow());
      await log.close();
    }
  });
  afterAll(async () => {
    await watchdog?.close();
  });
  let count = 0;
  return {
    create(options) {
      count += 1;
      const name = options.name ?? `service-${count}`;
      const runDir = mkdtempSync(path.join(root, "run-"));
      mkdirSync(path.join(runDir, "logs"));
      const dataDir = path.join(runDir, "data", name);
      const log = new ServiceLog(path.join(runDir, "logs", `${name}.log`), {
        lines: 100,
        lineChars: 1_000,
      });
      const events = new EventLog();
      if (watchdog === undefined) throw new Error("create() is for tests, after beforeAll");
      const service = new TargetProcessService({
        name,
        dataDir,
        runDir,
        log,
        events,
        watchdog,
        readyTimeoutMs: 5_000,
        address: "tcp://127.0.0.1:1",
        ...options,
        limits: { ...TEST_LIMITS, ...options.limits },
      });
      made.push({ service, log });
      return { service, events, runDir, dataDir };
    },
  };
}

/** The kinds of `events`, with the cause of an exit: `exited:crash`. */
export function eventKinds(events: EventLog): string[] {
  return events
    .list()
    .map((event: RuntimeEvent) => (event.kind === "exited" ? `exited:${event.cause}` : event.kind));
}

/** The pid of the latest `started` event: the leader, whose pid is its group's id. */
export function startedPid(events: EventLog): number {
  const started = events.list().findLast((event) => event.kind === "started");
  if (started?.kind !== "started" || started.pid === undefined)
    throw new Error(`no started event with a pid: ${JSON.stringify(events.list())}`);
  return started.pid;
}

/**
 * The commands of group `pgid`'s processes, sorted, once they are `expected` (a child just forked
 * is still named after its parent until it execs), or as they are after 2 s.
 */
export async function settledCommands(
  pgid: number,
  expected: readonly string[],
): Promise<string[]> {
  let commands: string[] = [];
  await eventually(async () => {
    commands = (await groupMembers(pgid)).map((member) => member.command).sort();
    return commands.join() === [...expected].sort().join();
  }, 2_000);
  return commands;
}

/** Whether redis-server can run here; where it cannot, CI fails and a developer skips. */
export function redisServerMissing(): boolean {
  try {
    resolveProgram("redis-server", { pathVariable: process.env.PATH ?? "" });
    return false;
  } catch (error) {
    if (process.env.CI !== undefined) throw error;
    return true;
  }
}

/** A Redis server command on `port`, persisting nothing, with `dir` as its working dir. */
export function redisCommand(port: number, dir: string, ...extra: string[]): string[] {
  const settings = ["--save", "", "--appendonly", "no", "--dir", dir];
  return ["redis-server", "--port", String(port), "--bind", "127.0.0.1", ...settings, ...extra];
}

/** Sends PING on a fresh connection; resolves with the first line of the reply. */
export function redisPing(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.setTimeout(2_000, () => socket.destroy(new Error("no reply to PING within 2 s")));
    socket.once("error", reject);
    socket.once("data", (data) => {
      resolve(data.toString("utf8").split("\r\n")[0] ?? "");
      socket.destroy();
    });
    socket.write("PING\r\n");
  });
}
