// One service of a process topology: a child process started with execa, restarted on the same
// port with the same data directory, killed, paused and resumed with signals, its memory
// watched, and its exits recorded as events (an exit nobody asked for is a crash).

import { execa, type ResultPromise } from "execa";
import { mkdir, rm } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { EventLog } from "../events.ts";
import type { ExitCause, ExitStatus, RestartOptions, ServiceHandle } from "../runtime.ts";
import { ProgramService } from "../program-service.ts";
import type { ServiceSpec } from "../topology.ts";
import { describeHealth, pollHealthy } from "./health.ts";
import { watchMemoryCap } from "./memory-cap.ts";
import { readRssBytes } from "./proc.ts";
import type { ServiceLog } from "./service-log.ts";
import type { Watchdog } from "./watchdog.ts";

/** Every wait and buffer of the process runtime, bounded (docs/architecture.md §9). */
export interface ProcessLimits {
  /** From spawn to /healthz 200. */
  readyTimeoutMs: number;
  /** After SIGTERM (or any non-SIGKILL signal), how long before SIGKILL. */
  stopGraceMs: number;
  /** After SIGKILL, how long before giving up on the exit (a process in D state). */
  killWaitMs: number;
  healthPollMs: number;
  memoryPollMs: number;
  /** Log lines kept in memory per service, and the longest line kept. */
  logLines: number;
  logLineChars: number;
  /** Log lines quoted in an error message. */
  errorLogLines: number;
}

export const DEFAULT_PROCESS_LIMITS: Readonly<ProcessLimits> = Object.freeze({
  readyTimeoutMs: 20_000,
  stopGraceMs: 5_000,
  killWaitMs: 5_000,
  healthPollMs: 50,
  memoryPollMs: 100,
  logLines: 1_000,
  logLineChars: 8_192,
  errorLogLines: 20,
});

const LOOPBACK = "127.0.0.1";

export interface ServiceLaunch {
  node: string;
  entry: string;
  /** The component's arguments for a given port. */
  argumentsFor(port: number): string[];
  /** Where the service keeps its durable state (emptied by `restart({ wipeData: true })`). */
  dataDir: string;
}

interface Running {
  subprocess: ResultPromise;
  pid: number;
  exit: Promise<ExitStatus>;
  readyPort: Promise<number>;
}

/** The port of a pino `ready` line (`{"msg":"ready","port":41234,...}`), if it is one. */
export function readyPortOf(text: string): number | undefined {
  if (!text.startsWith("{") || !text.includes('"ready"')) return undefined;
  try {
    const record = JSON.parse(text) as { msg?: unknown; port?: unknown };
    return record.msg === "ready" && typeof record.port === "number" ? record.port : undefined;
  } catch {
    return undefined;
  }
}

export class ProcessService extends ProgramService<Running> implements ServiceHandle {
  readonly component: ServiceSpec["component"];
  private readonly launch: ServiceLaunch;
  private readonly events: EventLog;
  private readonly watchdog: Watchdog;
  private readonly limits: ProcessLimits;
  private port = 0;
  private lastExit: ExitStatus = { code: null, signal: null };
  /** What the next exit is, if the harness caused it. */
  private expectedExit: ExitCause | undefined;
  private memoryWatch: NodeJS.Timeout | undefined;

  constructor(
    spec: ServiceSpec,
    context: {
      launch: ServiceLaunch;
      log: ServiceLog;
      events: EventLog;
      watchdog: Watchdog;
      limits: ProcessLimits;
    },
  ) {
    super(spec.name, context.log, spec.memoryCapMb);
    this.component = spec.component;
    this.launch = context.launch;
    this.events = context.events;
    this.watchdog = context.watchdog;
    this.limits = context.limits;
  }

  url(): string {
    if (this.port === 0)
      throw new Error(`service "${this.name}" has no address yet: it never became ready`);
    return `http://${LOOPBACK}:${this.port}`;
  }

  pid(): number | undefined {
    return this.running?.pid;
  }

  async memoryBytes(): Promise<number | undefined> {
    const pid = this.running?.pid;
    return pid === undefined ? undefined : readRssBytes(pid);
  }

  /** Starts the process and waits until it is ready; on failure it is killed and this throws. */
  async start(): Promise<void> {
    this.requireExited();
    const deadline = Date.now() + this.limits.readyTimeoutMs;
    const running = this.spawn();
    const outcome = await within(
      Promise.race([
        running.readyPort.then((port) => ({ port })),
        running.exit.then((exit) => ({ exit })),
      ]),
      this.limits.readyTimeoutMs,
    );
    if (outcome === undefined) {
      throw await this.failStart(
        `gave no "ready" line on stdout within ${this.limits.readyTimeoutMs} ms`,
      );
    }
    if ("exit" in outcome)
      throw await this.failStart(`exited before it was ready (${describeExit(outcome.exit)})`);
    if (this.port !== 0 && outcome.port !== this.port) {
      throw await this.failStart(`came back on port ${outcome.port} instead of ${this.port}`);
    }
    this.port = outcome.port;
    const unhealthy = await pollHealthy(this.url(), {
      deadline,
      intervalMs: this.limits.healthPollMs,
      gaveUp: () => this.running !== running,
    });
    if (this.running !== running) {
      throw this.error(`exited before it was ready (${describeExit(this.lastExit)})`);
    }
    if (unhealthy !== undefined) {
      throw await this.failStart(`/healthz ${describeHealth(unhealthy)} until the deadline`);
    }
    this.current = "running";
    this.events.record({ at: Date.now(), service: this.name, kind: "ready", url: this.url() });
  }

  private spawn(): Running {
    const subprocess = execa(
      this.launch.node,
      [this.launch.entry, ...this.launch.argumentsFor(this.port)],
      {
        stdin: "ignore",
        buffer: false,
        reject: false,
        cleanup: false,
        forceKillAfterDelay: false,
        env: { SPILLWAY_PARENT_PID: String(process.pid) },
      },
    );
    let onReady: (port: number) => void = () => {};
    const readyPort = new Promise<number>((resolve) => (onReady = resolve));
    this.log.follow("stdout", subprocess.stdout, (line) => {
      const port = readyPortOf(line.text);
      if (port !== undefined) onReady(port);
    });
    this.log.follow("stderr", subprocess.stderr);
    const pid = subprocess.pid ?? 0;
    const exit = subprocess.then((result) => ({
      code: result.exitCode ?? null,
      signal: result.signal ?? null,
    }));
    const running: Running = { subprocess, pid, exit, readyPort };
    this.running = running;
    this.current = "starting";
    this.expectedExit = undefined;
    this.events.record({ at: Date.now(), service: this.name, kind: "started", pid });
    if (pid !== 0) this.watchdog.guard(pid);
    this.watchMemory(running);
    void exit.then((status) => this.exited(running, status));
    return running;
  }

  private exited(running: Running, status: ExitStatus): void {
    if (this.running !== running) return;
    clearInterval(this.memoryWatch);
    this.watchdog.release(running.pid);
    this.running = undefined;
    this.current = "exited";
    this.lastExit = status;
    const cause = this.expectedExit ?? "crash";
    this.events.record({ at: Date.now(), service: this.name, kind: "exited", cause, ...status });
  }

  private watchMemory(running: Running): void {
    this.memoryWatch = watchMemoryCap({
      intervalMs: this.limits.memoryPollMs,
      capMb: () => this.memoryCapMb,
      readBytes: () => readRssBytes(running.pid),
      over: () => this.running !== running || this.expectedExit !== undefined,
      exceeded: (rssMb, capMb) => {
        this.expectedExit = "memory-cap";
        this.events.record({
          at: Date.now(),
          service: this.name,
          kind: "memory-cap-exceeded",
          rssMb,
          capMb,
        });
        running.subprocess.kill("SIGKILL");
      },
    });
  }

  private async failStart(reason: string): Promise<Error> {
    await this.kill("SIGKILL");
    return this.error(reason);
  }

  private error(reason: string): Error {
    const tail = this.log.tail(this.limits.errorLogLines);
    return new Error(
      `service "${this.name}" (${this.component}) ${reason}; its last log lines (all in ${this.log.path}):\n${tail}`,
    );
  }

  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<ExitStatus> {
    const running = this.running;
    if (running === undefined) return this.lastExit;
    this.expectedExit ??= "requested";
    this.events.record({ at: Date.now(), service: this.name, kind: "signalled", signal });
    running.subprocess.kill(signal);
    if (signal !== "SIGKILL" && this.current === "paused") running.subprocess.kill("SIGCONT");
    const graceful =
      signal === "SIGKILL" ? undefined : await within(running.exit, this.limits.stopGraceMs);
    if (graceful !== undefined) return graceful;
    running.subprocess.kill("SIGKILL");
    const status = await within(running.exit, this.limits.killWaitMs);
    if (status === undefined)
      throw this.error(`did not exit within ${this.limits.killWaitMs} ms of SIGKILL`);
    return status;
  }

  async pause(): Promise<void> {
    if (this.current === "paused") return;
    const running = this.requireRunning("pause");
    running.subprocess.kill("SIGSTOP");
    this.current = "paused";
    this.events.record({ at: Date.now(), service: this.name, kind: "paused" });
  }

  async resume(): Promise<void> {
    if (this.current !== "paused") return;
    this.requireRunning("resume").subprocess.kill("SIGCONT");
    this.current = "running";
    this.events.record({ at: Date.now(), service: this.name, kind: "resumed" });
  }

  async restart(options: RestartOptions = {}): Promise<void> {
    if (this.running !== undefined) await this.kill("SIGTERM");
    if (options.wipeData === true) {
      await rm(this.launch.dataDir, { recursive: true, force: true });
      await mkdir(this.launch.dataDir, { recursive: true });
    }
    await this.start();
  }

  async waitReady(timeoutMs = this.limits.readyTimeoutMs): Promise<void> {
    if (this.running === undefined)
      throw this.error(`is not running (${describeExit(this.lastExit)})`);
    const running = this.running;
    const unhealthy = await pollHealthy(this.url(), {
      deadline: Date.now() + timeoutMs,
      intervalMs: this.limits.healthPollMs,
      gaveUp: () => this.running !== running,
    });
    if (this.running !== running)
      throw this.error(`exited while waiting to be ready (${describeExit(this.lastExit)})`);
    if (unhealthy !== undefined)
      throw this.error(`not ready within ${timeoutMs} ms: /healthz ${describeHealth(unhealthy)}`);
  }

  /** Synchronous last resort at harness exit: SIGKILL, which also ends a paused process. */
  killNow(): void {
    if (this.running === undefined) return;
    this.expectedExit ??= "requested";
    this.running.subprocess.kill("SIGKILL");
  }
}

export function describeExit(status: ExitStatus): string {
  if (status.signal !== null) return `killed by ${status.signal}`;
  return status.code === null ? "never started" : `exit code ${status.code}`;
}

/** The value of `promise` if it settles within `ms`, else undefined. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  const timeout = new AbortController();
  try {
    return await Promise.race([promise, sleep(ms, undefined, { signal: timeout.signal })]);
  } finally {
    timeout.abort();
  }
}
