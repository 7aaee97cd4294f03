// One service of a container topology: a container created and started with testcontainers,
// then driven through the runtime client (dockerode): killed with a signal, paused and unpaused
// (the cgroup freezer), capped with a memory limit (the kernel's OOM killer enforces it),
// restarted — the same container, so its data stays, or a new one on the same address when the
// data is to be wiped. Its output is read from `docker attach` (stdout and stderr apart), from
// before each start, so that nothing is missed or read twice.

import type Dockerode from "dockerode";
import { PassThrough } from "node:stream";
import { constants } from "node:os";
import {
  GenericContainer,
  Wait,
  type ContainerRuntimeClient,
  type StartedTestContainer,
} from "testcontainers";
import type { EventLog } from "../events.ts";
import type { ExitCause, ExitStatus, LogLine, RestartOptions, ServiceHandle } from "../runtime.ts";
import { ProgramService } from "../program-service.ts";
import type { ServiceSpec } from "../topology.ts";
import { describeHealth, pollHealthy } from "../process/health.ts";
import type { ServiceLog } from "../process/service-log.ts";
import { LABEL_SERVICE } from "./labels.ts";
import { containerMemoryBytes } from "./memory.ts";
import type { Networking } from "./networking.ts";

/** Every wait of the container runtime, bounded (docs/architecture.md §9). */
export interface ContainerLimits {
  /** From `docker start` to /healthz 200. */
  readyTimeoutMs: number;
  /** After SIGTERM (or any non-SIGKILL signal), how long before SIGKILL. */
  stopGraceMs: number;
  /** After SIGKILL, how long before giving up on the exit. */
  killWaitMs: number;
  healthPollMs: number;
  /** Log lines quoted in an error message. */
  errorLogLines: number;
}

export const DEFAULT_CONTAINER_LIMITS: Readonly<ContainerLimits> = Object.freeze({
  readyTimeoutMs: 30_000,
  stopGraceMs: 5_000,
  killWaitMs: 10_000,
  healthPollMs: 50,
  errorLogLines: 20,
});

const MIB = 1024 * 1024;
/** A memory limit that limits nothing: Docker cannot take a limit away once set. */
const UNCAPPED_BYTES = 2 ** 40;
const READY_LINE = /"msg":"ready"/;

export interface ServiceLaunch {
  image: string;
  /** The container's command for a given listen address. */
  command(listen: { host: string; port: number }): string[];
  labels: Record<string, string>;
}

/** What a service container needs from its topology. */
export interface ServiceContext {
  client: ContainerRuntimeClient;
  launch: ServiceLaunch;
  networking: Networking;
  /** Its output: the latest lines in memory and every line in a file of the run directory. */
  log: ServiceLog;
  events: EventLog;
  limits: ContainerLimits;
}

/** testcontainers' GenericContainer, plus a memory limit without swap and a created hook. */
class ServiceContainer extends GenericContainer {
  private readonly onCreated: (id: string) => Promise<void>;

  constructor(image: string, onCreated: (id: string) => Promise<void>) {
    super(image);
    this.onCreated = onCreated;
  }

  withMemoryCap(megabytes: number | undefined): this {
    if (megabytes !== undefined) {
      this.hostConfig.Memory = Math.round(megabytes * MIB);
      this.hostConfig.MemorySwap = Math.round(megabytes * MIB);
    }
    return this;
  }

  protected override async containerCreated(id: string): Promise<void> {
    await this.onCreated(id);
  }
}

interface Running {
  container: Dockerode.Container;
  exit: Promise<ExitStatus>;
}

/** A container's exit code as an exit status: 128 + n is death by signal n. */
export function statusOf(code: number): ExitStatus {
  const signal = Object.entries(constants.signals).find(([, number]) => code === 128 + number);
  return signal === undefined ? { code, signal: null } : { code: null, signal: signal[0] };
}

function describeExit(status: ExitStatus): string {
  if (status.signal !== null) return `killed by ${status.signal}`;
  return status.code === null ? "never started" : `exit code ${status.code}`;
}

/** The HTTP status of a failed Docker API call (dockerode keeps it on the error). */
function dockerStatus(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown }).statusCode;
  return typeof status === "number" ? status : undefined;
}

/** Docker calls that may find the container already in the wanted state. */
export async function tolerate(call: Promise<unknown>, ...statuses: number[]): Promise<void> {
  try {
    await call;
  } catch (error) {
    if (!statuses.includes(dockerStatus(error) ?? 0)) throw error;
  }
}

export class ContainerService extends ProgramService<Running> implements ServiceHandle {
  readonly component: ServiceSpec["component"];
  private readonly context: ServiceContext;
  private started: StartedTestContainer | undefined;
  private baseUrl: string | undefined;
  private hostPid: number | undefined;
  private lastExit: ExitStatus = { code: null, signal: null };
  private expectedExit: ExitCause | undefined;
  private lastMemoryMb = 0;
  private capUpdates: Promise<void> = Promise.resolve();
  /** A container the cap has killed, until it is gone: nothing may start it before. */
  private dying: Promise<void> = Promise.resolve();

  constructor(spec: ServiceSpec, context: ServiceContext) {
    super(spec.name, context.log, spec.memoryCapMb);
    this.component = spec.component;
    this.context = context;
  }

  url(): string {
    if (this.baseUrl === undefined)
      throw new Error(`service "${this.name}" has no address yet: it never became ready`);
    return this.baseUrl;
  }

  /** The container's id while one exists. */
  containerId(): string | undefined {
    return this.started?.getId();
  }

  /** The container's main process as the host sees it. */
  pid(): number | undefined {
    return this.running === undefined ? undefined : this.hostPid;
  }

  /** Memory in use as `docker stats` counts it (usage less inactive page cache). */
  async memoryBytes(): Promise<number | undefined> {
    const running = this.running;
    if (running === undefined) return undefined;
    const bytes = await containerMemoryBytes(running.container);
    if (bytes !== undefined) this.lastMemoryMb = bytes / MIB;
    return bytes;
  }

  override setMemoryCap(megabytes: number | undefined): void {
    super.setMemoryCap(megabytes);
    const running = this.running;
    if (running === undefined) return;
    // Over the cap by the last reading: dead now, as a process over its cap would be, so that
    // whoever set the cap sees the exit at once; the container follows.
    if (megabytes !== undefined && this.lastMemoryMb > megabytes) {
      this.dieOfCap(running, megabytes);
      return;
    }
    this.capUpdates = this.capUpdates.then(() => this.applyCap(running, megabytes));
  }

  private dieOfCap(running: Running, capMb: number): void {
    this.capExceeded(Math.max(this.lastMemoryMb, capMb), capMb);
    this.exited(running, { code: null, signal: "SIGKILL" });
    const killed = tolerate(running.container.kill({ signal: "SIGKILL" }), 404, 409).then(() =>
      within(running.exit, this.context.limits.killWaitMs),
    );
    this.dying = killed.then(
      () => undefined,
      () => undefined,
    );
  }

  /** Resolves once every memory cap set so far is in force (or has killed the service). */
  memoryCapApplied(): Promise<void> {
    return this.capUpdates;
  }

  private async applyCap(running: Running, megabytes: number | undefined): Promise<void> {
    if (this.running !== running) return;
    const bytes = megabytes === undefined ? UNCAPPED_BYTES : Math.round(megabytes * MIB);
    try {
      await running.container.update({ Memory: bytes, MemorySwap: bytes });
    } catch (error) {
      // The kernel refuses a limit below what the container already uses: that memory is over
      // the cap now, and the cap's answer to that is to kill it, as on processes.
      if (megabytes === undefined || !/usage/.test((error as Error).message)) {
        this.context.log.add(
          "stderr",
          `spillway: setting the memory cap failed: ${(error as Error).message}`,
        );
        return;
      }
      this.dieOfCap(running, megabytes);
    }
  }

  private capExceeded(rssMb: number, capMb: number): void {
    if (this.expectedExit !== undefined) return;
    this.expectedExit = "memory-cap";
    this.context.events.record({
      at: Date.now(),
      service: this.name,
      kind: "memory-cap-exceeded",
      rssMb: Math.ceil(rssMb * 10) / 10,
      capMb,
    });
  }

  /** Creates and starts a new container and waits until it is ready; on failure it is gone. */
  async start(): Promise<void> {
    this.requireExited();
    const listen = await this.context.networking.listen(this.name);
    let attached: Promise<void> | undefined;
    const container = new ServiceContainer(this.context.launch.image, async (id) => {
      attached = this.attach(this.context.client.container.getById(id));
      await attached;
    })
      .withCommand(this.context.launch.command(listen))
      .withLabels({ ...this.context.launch.labels, [LABEL_SERVICE]: this.name })
      .withMemoryCap(this.memoryCapMb)
      .withWaitStrategy(Wait.forLogMessage(READY_LINE))
      .withStartupTimeout(this.context.limits.readyTimeoutMs);
    this.context.networking.configure(container, this.name, listen);
    this.current = "starting";
    this.expectedExit = undefined;
    const deadline = Date.now() + this.context.limits.readyTimeoutMs;
    try {
      this.started = await container.start();
    } catch (error) {
      // testcontainers removed the container; its output was read until then.
      this.current = "exited";
      throw this.error(`did not start: ${(error as Error).message}`);
    }
    await this.becomeReady(this.context.client.container.getById(this.started.getId()), deadline);
  }

  /** Starts the stopped container again (same filesystem) and waits until it is ready. */
  private async startAgain(): Promise<void> {
    const docker = this.context.client.container.getById(this.started!.getId());
    this.current = "starting";
    this.expectedExit = undefined;
    const deadline = Date.now() + this.context.limits.readyTimeoutMs;
    // A cap set while it was down applies from this start on.
    const bytes = this.memoryCapMb === undefined ? UNCAPPED_BYTES : this.memoryCapMb * MIB;
    await docker.update({ Memory: Math.round(bytes), MemorySwap: Math.round(bytes) });
    await this.attach(docker);
    await docker.start();
    await this.becomeReady(docker, deadline);
  }

  /** Follows the container's stdout and stderr from its next start on. */
  private async attach(docker: Dockerode.Container): Promise<void> {
    await followOutput(this.context.client, docker, this.context.log);
  }

  private async becomeReady(docker: Dockerode.Container, deadline: number): Promise<void> {
    const inspected = await docker.inspect();
    this.hostPid = inspected.State.Pid;
    this.baseUrl = this.context.networking.url(this.name, inspected);
    const exit = docker.wait().then(
      async (result: { StatusCode: number }) => this.exitStatus(docker, result.StatusCode),
      () => ({ code: null, signal: null }) as ExitStatus,
    );
    const running: Running = { container: docker, exit };
    this.running = running;
    this.context.events.record({
      at: Date.now(),
      service: this.name,
      kind: "started",
      ...(this.hostPid === undefined ? {} : { pid: this.hostPid }),
    });
    void exit.then((status) => this.exited(running, status));
    const unhealthy = await this.healthyBy(deadline, "before it was ready");
    if (unhealthy !== undefined) {
      await this.kill("SIGKILL");
      throw this.error(`/healthz ${unhealthy} until the deadline`);
    }
    this.current = "running";
    this.context.events.record({
      at: Date.now(),
      service: this.name,
      kind: "ready",
      url: this.url(),
    });
  }

  /** How the container ended; an OOM kill nobody asked for is the memory cap's doing. */
  private async exitStatus(docker: Dockerode.Container, code: number): Promise<ExitStatus> {
    const state = await docker.inspect().then(
      (inspected) => inspected.State,
      () => undefined,
    );
    if (state?.OOMKilled === true && this.memoryCapMb !== undefined)
      this.capExceeded(Math.max(this.lastMemoryMb, this.memoryCapMb), this.memoryCapMb);
    return statusOf(state?.ExitCode ?? code);
  }

  private exited(running: Running, status: ExitStatus): void {
    if (this.running !== running) return;
    this.running = undefined;
    this.current = "exited";
    this.lastExit = status;
    const cause = this.expectedExit ?? "crash";
    this.context.events.record({
      at: Date.now(),
      service: this.name,
      kind: "exited",
      cause,
      ...status,
    });
  }

  private error(reason: string): Error {
    const tail = this.context.log.tail(this.context.limits.errorLogLines);
    return new Error(
      `service "${this.name}" (${this.component}) ${reason}; its last log lines (all in ${this.context.log.path}):\n${tail}`,
    );
  }

  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<ExitStatus> {
    const running = this.running;
    if (running === undefined) return this.lastExit;
    this.expectedExit ??= "requested";
    this.context.events.record({ at: Date.now(), service: this.name, kind: "signalled", signal });
    if (signal !== "SIGKILL" && this.current === "paused")
      await tolerate(running.container.unpause(), 404, 409, 500);
    const status = await killContainer(running, signal, this.context.limits);
    if (status === undefined)
      throw this.error(`did not exit within ${this.context.limits.killWaitMs} ms of SIGKILL`);
    return status;
  }

  async pause(): Promise<void> {
    if (this.current === "paused") return;
    await this.requireRunning("pause").container.pause();
    this.current = "paused";
    this.context.events.record({ at: Date.now(), service: this.name, kind: "paused" });
  }

  async resume(): Promise<void> {
    if (this.current !== "paused") return;
    await this.requireRunning("resume").container.unpause();
    this.current = "running";
    this.context.events.record({ at: Date.now(), service: this.name, kind: "resumed" });
  }

  async restart(options: RestartOptions = {}): Promise<void> {
    if (this.running !== undefined) await this.kill("SIGTERM");
    await this.dying;
    if (options.wipeData === true || this.started === undefined) {
      // A new container from the image: a filesystem as the image has it, the same address.
      await this.remove();
      await this.start();
      return;
    }
    await this.startAgain();
  }

  async waitReady(timeoutMs = this.context.limits.readyTimeoutMs): Promise<void> {
    if (this.running === undefined)
      throw this.error(`is not running (${describeExit(this.lastExit)})`);
    const unhealthy = await this.healthyBy(Date.now() + timeoutMs, "while waiting to be ready");
    if (unhealthy !== undefined)
      throw this.error(`not ready within ${timeoutMs} ms: /healthz ${unhealthy}`);
  }

  /** Polls /healthz until 200 (undefined) or `deadline` (the last answer); throws if it exits. */
  private async healthyBy(deadline: number, when: string): Promise<string | undefined> {
    const running = this.running;
    const unhealthy = await pollHealthy(this.url(), {
      deadline,
      intervalMs: this.context.limits.healthPollMs,
      gaveUp: () => this.running !== running,
    });
    if (this.running !== running)
      throw this.error(`exited ${when} (${describeExit(this.lastExit)})`);
    return unhealthy === undefined ? undefined : describeHealth(unhealthy);
  }

  /** Removes the container and closes the log file: the end of this service. */
  async release(): Promise<void> {
    try {
      await this.remove();
    } finally {
      await this.context.log.close();
    }
  }

  /** Stops (SIGTERM, then SIGKILL after the grace period) and removes the container. */
  async remove(): Promise<void> {
    if (this.running !== undefined) await this.kill("SIGTERM");
    await this.dying;
    const started = this.started;
    this.started = undefined;
    if (started === undefined) return;
    await tolerate(
      this.context.client.container.getById(started.getId()).remove({ force: true, v: true }),
      404,
      409,
    );
  }
}

/**
 * `docker kill` with `signal`, then its exit; any other signal than SIGKILL is followed by SIGKILL
 * after `stopGraceMs`. Undefined when it has not exited `killWaitMs` after SIGKILL.
 */
export async function killContainer(
  running: { container: Dockerode.Container; exit: Promise<ExitStatus> },
  signal: NodeJS.Signals,
  limits: Pick<ContainerLimits, "stopGraceMs" | "killWaitMs">,
): Promise<ExitStatus | undefined> {
  await tolerate(running.container.kill({ signal }), 404, 409);
  if (signal !== "SIGKILL") {
    const graceful = await within(running.exit, limits.stopGraceMs);
    if (graceful !== undefined) return graceful;
    await tolerate(running.container.kill({ signal: "SIGKILL" }), 404, 409);
  }
  return within(running.exit, limits.killWaitMs);
}

/**
 * Follows a container's stdout and stderr (apart) into `log` from its next start on, until it
 * stops; `onLine` hears every line. Resolves once attached, with a promise that settles when
 * the output has ended (it stopped, and every line it wrote is in the log).
 */
export async function followOutput(
  client: ContainerRuntimeClient,
  docker: Dockerode.Container,
  log: ServiceLog,
  onLine?: (line: LogLine) => void,
): Promise<{ ended: Promise<void> }> {
  const stream = await docker.attach({ stream: true, stdout: true, stderr: true, logs: false });
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  client.container.dockerode.modem.demuxStream(stream, stdout, stderr);
  const ended = new Promise<void>((resolve) => {
    const end = (): void => {
      stdout.end();
      stderr.end();
      resolve();
    };
    stream.on("end", end);
    stream.on("error", end);
  });
  log.follow("stdout", stdout, onLine);
  log.follow("stderr", stderr, onLine);
  return { ended };
}

/** The value of `promise` if it settles within `ms`, else undefined. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const expiry = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  return Promise.race([promise, expiry]).finally(() => clearTimeout(timer));
}
