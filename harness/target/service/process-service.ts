// One service of a target (docs/targets.md, "Services"): third-party software started in the
// foreground as a process group of its own, so that kill, pause, resume, restart and the memory
// cap act on everything it forks. Ready and healthy are judged from outside (readiness.ts); its
// exits are recorded as events as the reference pipeline's are (docs/architecture.md §3). Nothing
// of it is left behind: the group is guarded by the watchdog and recorded in the run directory
// for `spillway clean`, and what it forks carries a mark (see ProcessMark), so that a program
// that daemonised out of its group is found and ended too.

import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, openSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { EventLog } from "../../runtime/events.ts";
import { recordGroup } from "../../runtime/process/group-record.ts";
import { watchMemoryCap } from "../../runtime/process/memory-cap.ts";
import { isAlive, readStat } from "../../runtime/process/proc.ts";
import {
  describeMembers,
  groupAndMarked,
  groupMembers,
  groupRssBytes,
  signalGroup,
  type GroupMember,
  type ProcessMark,
} from "../../runtime/process/process-group.ts";
import {
  DEFAULT_PROCESS_LIMITS,
  describeExit,
  within,
  type ProcessLimits,
} from "../../runtime/process/service-process.ts";
import type { ServiceLog } from "../../runtime/process/service-log.ts";
import type { Watchdog } from "../../runtime/process/watchdog.ts";
import type {
  ExitCause,
  ExitStatus,
  LogLine,
  RestartOptions,
  ServiceHandle,
} from "../../runtime/runtime.ts";
import { ProgramService } from "../../runtime/program-service.ts";
import type { ServiceSpec } from "../../runtime/topology.ts";
import { resolveProgram } from "./executable.ts";
import {
  describeProbe,
  pollUntilReady,
  probeOnce,
  PROBE_TIMEOUT_MS,
  type Probe,
  type ReadyOutcome,
} from "./readiness.ts";

/** The waits of a target's service, bounded (the process runtime's, by the same names). */
export type TargetServiceLimits = Pick<
  ProcessLimits,
  "stopGraceMs" | "killWaitMs" | "healthPollMs" | "memoryPollMs" | "errorLogLines"
>;

/** After the group is gone, how long its last output may take to reach the log. */
const OUTPUT_DRAIN_MS = 1_000;
/** The environment variable that marks every process a service starts (see the header). */
const MARK_VARIABLE = "SPILLWAY_TARGET_SERVICE";

export interface TargetProcessOptions {
  name: string;
  /** The command line, already rendered; argv[0] is looked up on PATH (`env`'s, else ours). */
  command: readonly string[];
  /** Added to the harness's environment. */
  env?: Readonly<Record<string, string>>;
  /** Its working directory (default `dataDir`). */
  cwd?: string;
  /** Its own directory: created, kept across restarts, emptied by `restart({ wipeData: true })`. */
  dataDir: string;
  /** The run directory, where each of its process groups is recorded for `spillway clean`. */
  runDir: string;
  log: ServiceLog;
  events: EventLog;
  watchdog: Watchdog;
  readiness: Probe;
  readyTimeoutMs: number;
  /** What `health()` asks (default `readiness`); a log line there means "its leader lives". */
  healthy?: Probe;
  /** The Debian package that provides argv[0], for the error when it is not on PATH. */
  packageHint?: string;
  /** What `url()` returns, e.g. `tcp://127.0.0.1:6379` or an HTTP base URL. */
  address: string;
  /** The pipeline role it plays, where it has one. */
  component?: ServiceSpec["component"];
  limits?: Partial<TargetServiceLimits>;
}

interface Running {
  /** The leader's pid, which is the group's id. */
  pgid: number;
  exit: Promise<ExitStatus>;
  /** Settles once stdout and stderr are closed: every line it wrote is in the log. */
  closed: Promise<void>;
  logLineSeen: boolean;
  /** Set once `end` has begun: what was left of the group, and what survived SIGKILL. */
  ending?: Promise<Ending>;
}

interface Ending {
  /** Processes found alive when the ending began, if the leader had exited by then. */
  leftover: GroupMember[];
  /** Those still alive `killWaitMs` after SIGKILL. */
  survivors: GroupMember[];
}

export class TargetProcessService extends ProgramService<Running> implements ServiceHandle {
  readonly component: ServiceHandle["component"];
  private readonly options: TargetProcessOptions;
  private readonly limits: TargetServiceLimits;
  /** What every process it starts carries, to be found if it leaves its group. */
  private readonly mark: ProcessMark;
  /** The latest process group, running or not, until it is known to be gone. */
  private latest: Running | undefined;
  private lastExit: ExitStatus = { code: null, signal: null };
  /** What the next exit is, if the harness caused it. */
  private expectedExit: ExitCause | undefined;
  private memoryWatch: NodeJS.Timeout | undefined;

  constructor(options: TargetProcessOptions) {
    if (options.command.length === 0)
      throw new Error(
        `service "${options.name}": command is empty, expected a program and its arguments`,
      );
    super(options.name, options.log, undefined);
    this.component = options.component ?? "target";
    this.options = options;
    this.limits = { ...DEFAULT_PROCESS_LIMITS, ...options.limits };
    const markValue = `${options.name}:${process.pid}:${randomBytes(6).toString("hex")}`;
    this.mark = {
      environmentEntry: `${MARK_VARIABLE}=${markValue}`,
      openFile: path.join(options.runDir, `${options.name}.mark`),
      since: "0",
    };
  }

  url(): string {
    return this.options.address;
  }

  pid(): number | undefined {
    return this.running?.pgid;
  }

  /** The summed resident memory of every process of its group. */
  async memoryBytes(): Promise<number | undefined> {
    const running = this.running;
    return running === undefined ? undefined : groupRssBytes(running.pgid);
  }

  /**
   * Starts it and waits until it is ready. On failure nothing of it is left running and this
   * throws saying why, with its last log lines.
   */
  async start(): Promise<void> {
    this.requireExited();
    const program = this.program();
    await mkdir(this.options.dataDir, { recursive: true });
    const running = await this.spawn(program);
    const readyTimeoutMs = this.options.readyTimeoutMs;
    const outcome = await this.untilReady(running, Date.now() + readyTimeoutMs);
    if ("failure" in outcome) {
      throw await this.failStart(
        running,
        `was not ready within ${readyTimeoutMs} ms: ${describeProbe(this.options.readiness)} ${outcome.failure}`,
      );
    }
    if ("exited" in outcome) {
      throw await this.failStart(
        running,
        `exited at once (${describeExit(await running.exit)}) before it was ready: if it daemonised, run it in the foreground (rsyslogd -n, redis-server --daemonize no)`,
      );
    }
    this.current = "running";
    this.options.events.record({
      at: Date.now(),
      service: this.name,
      kind: "ready",
      url: this.url(),
    });
  }

  private program(): string {
    const [program = ""] = this.options.command;
    try {
      return resolveProgram(program, {
        pathVariable: this.options.env?.PATH ?? process.env.PATH ?? "",
        packageHint: this.options.packageHint,
      });
    } catch (error) {
      throw new Error(`service "${this.name}": ${(error as Error).message}`, { cause: error });
    }
  }

  private async spawn(program: string): Promise<Running> {
    const [argv0 = program, ...args] = this.options.command;
    const [, markValue] = this.mark.environmentEntry.split("=");
    const cwd = this.options.cwd ?? this.options.dataDir;
    const markFd = openSync(this.mark.openFile, "a");
    let child: ChildProcess;
    try {
      child = spawn(program, args, {
        argv0,
        cwd,
        env: { ...process.env, ...this.options.env, [MARK_VARIABLE]: markValue },
        // Its own process group (pgid = its pid), so that signals reach everything it forks.
        detached: true,
        stdio: ["ignore", "pipe", "pipe", markFd],
      });
    } finally {
      closeSync(markFd);
    }
    const pgid = child.pid;
    if (pgid === undefined) {
      const error = await new Promise<Error>((resolve) => child.once("error", resolve));
      throw new Error(`service "${this.name}" could not be started in ${cwd}: ${error.message}`);
    }
    const exit = new Promise<ExitStatus>((resolve) =>
      child.once("exit", (code, signal) => resolve({ code, signal })),
    );
    const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
    const running: Running = { pgid, exit, closed, logLineSeen: false };
    const readiness = this.options.readiness;
    const onLine = (line: LogLine): void => {
      if (!("logLine" in readiness)) return;
      readiness.logLine.lastIndex = 0;
      if (readiness.logLine.test(line.text)) running.logLineSeen = true;
    };
    this.options.log.follow("stdout", child.stdout!, onLine);
    this.options.log.follow("stderr", child.stderr!, onLine);
    this.running = running;
    this.latest = running;
    this.current = "starting";
    this.expectedExit = undefined;
    this.options.events.record({ at: Date.now(), service: this.name, kind: "started", pid: pgid });
    const leader = readStat(pgid);
    if (leader !== undefined) {
      if (this.mark.since === "0") this.mark.since = leader.startTime;
      recordGroup(this.options.runDir, { name: this.name, pgid, startTime: leader.startTime });
      this.options.watchdog.guardGroup(pgid);
    }
    this.watchMemory(running);
    void exit.then((status) => this.exited(running, status));
    return running;
  }

  private exited(running: Running, status: ExitStatus): void {
    if (this.running !== running) return;
    clearInterval(this.memoryWatch);
    this.running = undefined;
    this.current = "exited";
    this.lastExit = status;
    const cause = this.expectedExit ?? "crash";
    this.options.events.record({
      at: Date.now(),
      service: this.name,
      kind: "exited",
      cause,
      ...status,
    });
    // The service is down once its leader is: the rest of the group would only hold its ports.
    // A requested stop ends the group itself, after its grace period.
    if (cause !== "requested") void this.end(running);
  }

  /** Polls the readiness probe until it passes, the leader exits or `deadline` passes. */
  private untilReady(running: Running, deadline: number): Promise<ReadyOutcome> {
    return pollUntilReady(this.options.readiness, {
      deadline,
      pollMs: this.limits.healthPollMs,
      logLineSeen: () => running.logLineSeen,
      // A daemonised child may answer for a leader that has exited but is not yet reaped.
      gone: () => this.running !== running || !isAlive(running.pgid),
      exit: running.exit,
    });
  }

  private watchMemory(running: Running): void {
    this.memoryWatch = watchMemoryCap({
      intervalMs: this.limits.memoryPollMs,
      capMb: () => this.memoryCapMb,
      readBytes: () => groupRssBytes(running.pgid),
      over: () => this.running !== running || this.expectedExit !== undefined,
      exceeded: (rssMb, capMb) => {
        this.expectedExit = "memory-cap";
        this.options.events.record({
          at: Date.now(),
          service: this.name,
          kind: "memory-cap-exceeded",
          rssMb,
          capMb,
        });
        signalGroup(running.pgid, "SIGKILL");
      },
    });
  }

  /** Ends every process of the group (and any that left it), once; see Ending. */
  private end(running: Running): Promise<Ending> {
    running.ending ??= this.endGroup(running);
    return running.ending;
  }

  private async endGroup(running: Running): Promise<Ending> {
    const find = () => groupAndMarked(running.pgid, this.mark);
    // Exited, or a zombie whose exit the event loop has yet to see.
    const leaderExited = this.running !== running || !isAlive(running.pgid);
    const found = await find();
    const deadline = Date.now() + this.limits.killWaitMs;
    let remaining = found;
    while (remaining.length > 0) {
      signalGroup(running.pgid, "SIGKILL");
      for (const escaped of remaining) {
        try {
          process.kill(escaped.pid, "SIGKILL");
        } catch {
          // Gone in the meantime.
        }
      }
      if (Date.now() >= deadline) break;
      await sleep(this.limits.healthPollMs);
      remaining = await find();
    }
    await within(running.exit, Math.max(0, deadline - Date.now()));
    if (remaining.length === 0) {
      this.options.watchdog.releaseGroup(running.pgid);
      if (this.latest === running) this.latest = undefined;
    }
    // What outlived its leader is worth a word (it daemonised); a live leader's children are not.
    return { leftover: leaderExited ? found : [], survivors: remaining };
  }

  private async failStart(running: Running, reason: string): Promise<Error> {
    // A leader that exited on its own did so unasked, whether or not its exit was seen yet.
    if (isAlive(running.pgid)) this.expectedExit ??= "requested";
    const { leftover, survivors } = await this.end(running);
    await within(running.closed, OUTPUT_DRAIN_MS);
    const notes = [
      leftover.length > 0 ? `; it left ${describeMembers(leftover)} running, now ended` : "",
      survivors.length > 0 ? `; still alive after SIGKILL: ${describeMembers(survivors)}` : "",
    ];
    return this.error(reason + notes.join(""));
  }

  private error(reason: string): Error {
    const log = this.options.log;
    const tail = log.tail(this.limits.errorLogLines);
    return new Error(
      `service "${this.name}" (${this.options.command[0]}) ${reason}; its last log lines (all in ${log.path}):\n${tail}`,
    );
  }

  /**
   * Sends `signal` (default SIGKILL) to its whole group and resolves once the leader has exited
   * and no process of the group is left: a paused group is resumed so the signal takes effect,
   * and what remains after the grace period (or at once, for SIGKILL) is SIGKILLed. Throws
   * naming the processes still alive `killWaitMs` after that.
   */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<ExitStatus> {
    const running = this.running;
    if (running === undefined) {
      await this.endLatest();
      return this.lastExit;
    }
    this.expectedExit ??= "requested";
    this.options.events.record({ at: Date.now(), service: this.name, kind: "signalled", signal });
    signalGroup(running.pgid, signal);
    if (signal !== "SIGKILL") {
      if (this.current === "paused") signalGroup(running.pgid, "SIGCONT");
      await this.groupGone(running, Date.now() + this.limits.stopGraceMs);
    }
    const { survivors } = await this.end(running);
    if (survivors.length > 0) {
      throw this.error(
        `left ${describeMembers(survivors)} alive ${this.limits.killWaitMs} ms after SIGKILL`,
      );
    }
    const status = await within(running.exit, this.limits.killWaitMs);
    if (status === undefined)
      throw this.error(`did not exit within ${this.limits.killWaitMs} ms of SIGKILL`);
    return status;
  }

  /** Waits until the leader has exited and its group is empty, or `deadline` passes. */
  private async groupGone(running: Running, deadline: number): Promise<void> {
    while (Date.now() < deadline) {
      if (this.running !== running && (await groupMembers(running.pgid)).length === 0) return;
      await sleep(this.limits.healthPollMs);
    }
  }

  /** Makes sure the last group, whose leader has exited, has no process left. */
  private async endLatest(): Promise<void> {
    if (this.latest === undefined) return;
    const { survivors } = await this.end(this.latest);
    if (survivors.length > 0)
      throw this.error(`left ${describeMembers(survivors)} alive after SIGKILL`);
  }

  async pause(): Promise<void> {
    if (this.current === "paused") return;
    signalGroup(this.requireRunning("pause").pgid, "SIGSTOP");
    this.current = "paused";
    this.options.events.record({ at: Date.now(), service: this.name, kind: "paused" });
  }

  async resume(): Promise<void> {
    if (this.current !== "paused") return;
    signalGroup(this.requireRunning("resume").pgid, "SIGCONT");
    this.current = "running";
    this.options.events.record({ at: Date.now(), service: this.name, kind: "resumed" });
  }

  /** Stops it (SIGTERM) if it runs and starts the same command again, on the same ports. */
  async restart(options: RestartOptions = {}): Promise<void> {
    await this.kill("SIGTERM");
    if (options.wipeData === true) {
      await rm(this.options.dataDir, { recursive: true, force: true });
      await mkdir(this.options.dataDir, { recursive: true });
    }
    await this.start();
  }

  /** Resolves when its readiness probe passes; rejects with its last log lines. */
  async waitReady(timeoutMs = this.options.readyTimeoutMs): Promise<void> {
    const running = this.running;
    if (running === undefined) throw this.error(`is not running (${describeExit(this.lastExit)})`);
    const outcome = await this.untilReady(running, Date.now() + timeoutMs);
    if ("exited" in outcome)
      throw this.error(`exited while waiting to be ready (${describeExit(this.lastExit)})`);
    if ("failure" in outcome) {
      throw this.error(
        `not ready within ${timeoutMs} ms: ${describeProbe(this.options.readiness)} ${outcome.failure}`,
      );
    }
  }

  /**
   * Whether it is healthy now, as seen from outside: its `healthy` probe passes (by default its
   * readiness probe). A log line, once seen, only says that it started, so for one: its leader
   * lives.
   */
  async health(): Promise<boolean> {
    const running = this.running;
    if (running === undefined) return false;
    const probe = this.options.healthy ?? this.options.readiness;
    if ("logLine" in probe) return isAlive(running.pgid);
    const found = await probeOnce(probe, {
      timeoutMs: PROBE_TIMEOUT_MS,
      logLineSeen: () => running.logLineSeen,
    });
    return found === undefined;
  }

  /** Synchronous last resort at harness exit: SIGKILL to the group, which also ends it paused. */
  killNow(): void {
    const running = this.running ?? this.latest;
    if (running === undefined) return;
    this.expectedExit ??= "requested";
    try {
      signalGroup(running.pgid, "SIGKILL");
    } catch {
      // Exiting: nothing more can be done, and the watchdog still guards the group.
    }
  }
}
