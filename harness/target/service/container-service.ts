// One service of a target as a container (docs/targets.md, "Container services"): an image the
// local Docker engine has, run on host networking, so that the ports Spillway allocated and the
// link addresses in its rendered files mean the same inside the container as outside; its config
// directory (read-only) and data directory are mounted at their own paths for the same reason.
// kill and pause are Docker's (docker kill with the signal; docker pause, the cgroup freezer); a
// restart starts the same container again, so that its ports, data and filesystem stay. Ready
// and healthy are judged from outside by the probes a process has (readiness.ts); its memory is
// its cgroup's, as `docker stats` counts it, and a memory cap kills it once over, as on a process.
// Nothing of it is left behind: the target's stop removes it (release), a harness exiting
// removes it with the docker CLI (killNow), and its labels let `spillway clean` find it after a
// harness killed with SIGKILL.

import type Dockerode from "dockerode";
import { chmod, mkdir, readdir, rm } from "node:fs/promises";
import path from "node:path";
import { setImmediate } from "node:timers/promises";
import { ImageName, type ContainerRuntimeClient } from "testcontainers";
import { dockerClient, dockerUnavailable } from "../../runtime/container/docker.ts";
import { removeContainersNow } from "../../runtime/container/docker-now.ts";
import {
  LABEL_RUN,
  LABEL_SERVICE,
  runLabels,
  testcontainersLabels,
} from "../../runtime/container/labels.ts";
import { containerMemoryBytes } from "../../runtime/container/memory.ts";
import {
  followOutput,
  killContainer,
  statusOf,
  tolerate,
} from "../../runtime/container/service-container.ts";
import type { EventLog } from "../../runtime/events.ts";
import { watchMemoryCap } from "../../runtime/process/memory-cap.ts";
import {
  DEFAULT_PROCESS_LIMITS,
  describeExit,
  within,
} from "../../runtime/process/service-process.ts";
import type { ServiceLog } from "../../runtime/process/service-log.ts";
import type {
  ExitCause,
  ExitStatus,
  RestartOptions,
  ServiceHandle,
} from "../../runtime/runtime.ts";
import { ProgramService } from "../../runtime/program-service.ts";
import type { TargetServiceLimits } from "./process-service.ts";
import {
  describeProbe,
  pollUntilReady,
  probeOnce,
  PROBE_TIMEOUT_MS,
  type Probe,
  type ReadyOutcome,
} from "./readiness.ts";

/** After the container stopped, how long its last output may take to reach the log. */
const OUTPUT_DRAIN_MS = 1_000;

export interface TargetContainerOptions {
  name: string;
  /** An image of the local Docker engine (none is pulled). */
  image: string;
  /** `docker run`'s arguments after the image, already rendered; default the image's command. */
  command?: readonly string[];
  env?: Readonly<Record<string, string>>;
  /** `docker run --user`; default the harness's own uid:gid. */
  user?: string;
  /** Its rendered files, mounted read-only at the same path. */
  configDir: string;
  /** Its own directory, mounted at the same path: kept across restarts, emptied by `wipeData`. */
  dataDir: string;
  /** Other directories of the run it writes to (a file egress's), mounted at the same path. */
  sharedDirs?: readonly string[];
  /** Rendered files also mounted where the image looks for them: host path → container path. */
  fileMounts?: Readonly<Record<string, string>>;
  /** The value of the spillway.run label on its container. */
  runId: string;
  log: ServiceLog;
  events: EventLog;
  readiness: Probe;
  readyTimeoutMs: number;
  /** What `url()` returns, e.g. `tcp://127.0.0.1:6379`. */
  address: string;
  limits?: Partial<TargetServiceLimits>;
}

interface Running {
  container: Dockerode.Container;
  /** The container's main process as the host sees it. */
  pid: number;
  exit: Promise<ExitStatus>;
  /** Settles once its output has ended: every line it wrote is in the log. */
  outputEnded: Promise<void>;
  /** Whether a line of this start matched a log-line probe. */
  sight: { logLineSeen: boolean };
}

/** `uid:gid` of the harness, where the platform has them. */
function harnessUser(): string | undefined {
  return process.getuid === undefined || process.getgid === undefined
    ? undefined
    : `${process.getuid()}:${process.getgid()}`;
}

export class TargetContainerService extends ProgramService<Running> implements ServiceHandle {
  readonly component = "target" as const;
  private readonly options: TargetContainerOptions;
  private readonly limits: TargetServiceLimits;
  private client: ContainerRuntimeClient | undefined;
  /** Its container, from its creation until it is removed. */
  private container: Dockerode.Container | undefined;
  /** Settles once a creation in flight has settled (and `container` is set if it succeeded). */
  private creating: Promise<void> = Promise.resolve();
  private released = false;
  private lastExit: ExitStatus = { code: null, signal: null };
  /** What the next exit is, if the harness caused it. */
  private expectedExit: ExitCause | undefined;
  private memoryWatch: NodeJS.Timeout | undefined;

  constructor(options: TargetContainerOptions) {
    super(options.name, options.log, undefined);
    this.options = options;
    this.limits = { ...DEFAULT_PROCESS_LIMITS, ...options.limits };
  }

  url(): string {
    return this.options.address;
  }

  pid(): number | undefined {
    return this.running?.pid;
  }

  /** Its container's id while it has one. */
  containerId(): string | undefined {
    return this.container?.id;
  }

  /** Its cgroup's memory in use, as `docker stats` counts it (less inactive page cache). */
  async memoryBytes(): Promise<number | undefined> {
    const running = this.running;
    return running === undefined ? undefined : containerMemoryBytes(running.container);
  }

  /**
   * Creates its container and starts it, and waits until it is ready. On failure the container
   * is removed and this throws saying why, with its last log lines.
   */
  async start(): Promise<void> {
    this.requireExited();
    if (this.released) throw new Error(`service "${this.name}" was stopped for good`);
    const client = await this.dockerWithImage();
    await mkdir(this.options.dataDir, { recursive: true });
    // Another user than the harness's must be able to write there; the run directory around it
    // is the harness's alone (mode 0700), so nobody else on the host reaches it.
    if (this.options.user !== undefined) await chmod(this.options.dataDir, 0o777);
    const created = this.create(client);
    this.creating = created.then(
      () => undefined,
      () => undefined,
    );
    const container = await created;
    if (this.released) {
      await this.removeContainer();
      throw new Error(`service "${this.name}" was stopped while its container was created`);
    }
    await this.launch(client, container);
  }

  /** The Docker client, once Docker answers and has the image; errors say what to do. */
  private async dockerWithImage(): Promise<ContainerRuntimeClient> {
    if (this.client !== undefined) return this.client;
    const { image } = this.options;
    const unavailable = await dockerUnavailable();
    if (unavailable !== undefined)
      throw new Error(`service "${this.name}" runs in a container (${image}), but ${unavailable}`);
    const client = await dockerClient();
    if (!(await client.image.exists(ImageName.fromString(image))))
      throw new Error(
        `service "${this.name}": image "${image}" is not on this Docker engine, and Spillway pulls nothing; get it there first (docker pull ${image}, docker load, or docker build -t ${image} .)`,
      );
    this.client = client;
    return client;
  }

  private async create(client: ContainerRuntimeClient): Promise<Dockerode.Container> {
    const { options } = this;
    const user = options.user ?? harnessUser();
    const bind = (source: string, target = source, readOnly = false) => ({
      Type: "bind" as const,
      Source: source,
      Target: target,
      ReadOnly: readOnly,
    });
    const container = await client.container.dockerode.createContainer({
      name: `spillway-${options.runId}-${options.name}`,
      Image: options.image,
      ...(options.command === undefined ? {} : { Cmd: [...options.command] }),
      Env: Object.entries(options.env ?? {}).map(([name, value]) => `${name}=${value}`),
      ...(user === undefined ? {} : { User: user }),
      Labels: {
        ...testcontainersLabels(),
        ...runLabels(options.runId),
        [LABEL_SERVICE]: options.name,
      },
      AttachStdout: true,
      AttachStderr: true,
      HostConfig: {
        // The host's network: its ports and the links' proxies on 127.0.0.1 are the same here.
        NetworkMode: "host",
        Mounts: [
          bind(options.configDir, options.configDir, true),
          bind(options.dataDir),
          ...(options.sharedDirs ?? []).map((dir) => bind(dir)),
          ...Object.entries(options.fileMounts ?? {}).map(([source, target]) =>
            bind(source, target, true),
          ),
        ],
      },
    });
    this.container = container;
    return container;
  }

  /** Starts `container` (new or stopped), following its output, and waits until it is ready. */
  private async launch(client: ContainerRuntimeClient, container: Dockerode.Container) {
    const readiness = this.options.readiness;
    const sight = { logLineSeen: false };
    const { ended } = await followOutput(client, container, this.options.log, (line) => {
      if (!("logLine" in readiness)) return;
      readiness.logLine.lastIndex = 0;
      if (readiness.logLine.test(line.text)) sight.logLineSeen = true;
    });
    this.current = "starting";
    this.expectedExit = undefined;
    try {
      await container.start();
    } catch (error) {
      this.current = "exited";
      await this.removeContainer();
      throw this.error(`could not be started: ${(error as Error).message}`);
    }
    const inspected = await container.inspect();
    const exit = container.wait().then(
      (result: { StatusCode: number }) => statusOf(result.StatusCode),
      () => ({ code: null, signal: null }) as ExitStatus,
    );
    const running: Running = {
      container,
      pid: inspected.State.Pid,
      exit,
      outputEnded: ended,
      sight,
    };
    this.running = running;
    this.options.events.record({
      at: Date.now(),
      service: this.name,
      kind: "started",
      pid: running.pid,
    });
    this.watchMemory(running);
    void exit.then((status) => this.exited(running, status));
    const readyTimeoutMs = this.options.readyTimeoutMs;
    const outcome = await this.untilReady(running, Date.now() + readyTimeoutMs);
    if ("failure" in outcome)
      throw await this.failStart(
        running,
        `was not ready within ${readyTimeoutMs} ms: ${describeProbe(readiness)} ${outcome.failure}`,
      );
    if ("exited" in outcome)
      throw await this.failStart(
        running,
        `exited at once (${describeExit(await running.exit)}) before it was ready: a container lives as long as its command, so run the program in the foreground (rsyslogd -n, redis-server --daemonize no)`,
      );
    this.current = "running";
    this.options.events.record({
      at: Date.now(),
      service: this.name,
      kind: "ready",
      url: this.url(),
    });
  }

  private exited(running: Running, status: ExitStatus): void {
    if (this.running !== running) return;
    clearInterval(this.memoryWatch);
    this.running = undefined;
    this.current = "exited";
    this.lastExit = status;
    this.options.events.record({
      at: Date.now(),
      service: this.name,
      kind: "exited",
      cause: this.expectedExit ?? "crash",
      ...status,
    });
  }

  /** Polls the readiness probe until it passes, the container stops or `deadline` passes. */
  private untilReady(running: Running, deadline: number): Promise<ReadyOutcome> {
    return pollUntilReady(this.options.readiness, {
      deadline,
      pollMs: this.limits.healthPollMs,
      logLineSeen: () => running.sight.logLineSeen,
      gone: () => this.running !== running,
      exit: running.exit,
    });
  }

  private watchMemory(running: Running): void {
    this.memoryWatch = watchMemoryCap({
      intervalMs: this.limits.memoryPollMs,
      capMb: () => this.memoryCapMb,
      readBytes: () => this.memoryBytes(),
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
        void this.thaw(running)
          .then(() => tolerate(running.container.kill({ signal: "SIGKILL" }), 404, 409))
          .catch(() => undefined);
      },
    });
  }

  /** Unpauses it if it is paused, so that a signal takes effect as on a stopped process group. */
  private async thaw(running: Running): Promise<void> {
    if (this.current === "paused") await tolerate(running.container.unpause(), 404, 409, 500);
  }

  private async failStart(running: Running, reason: string): Promise<Error> {
    if (this.running === running) this.expectedExit ??= "requested";
    await tolerate(running.container.kill({ signal: "SIGKILL" }), 404, 409);
    await within(running.exit, this.limits.killWaitMs);
    await within(running.outputEnded, OUTPUT_DRAIN_MS);
    await setImmediate();
    await this.removeContainer();
    return this.error(reason);
  }

  private error(reason: string): Error {
    const log = this.options.log;
    const tail = log.tail(this.limits.errorLogLines);
    return new Error(
      `service "${this.name}" (container ${this.options.image}) ${reason}; its last log lines (all in ${log.path}):\n${tail}`,
    );
  }

  /**
   * `docker kill` with `signal` (default SIGKILL), and resolves once the container has stopped:
   * a paused one is thawed so the signal takes effect, and one still running after the grace
   * period is SIGKILLed. The container stays, stopped, for `restart()`.
   */
  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<ExitStatus> {
    const running = this.running;
    if (running === undefined) return this.lastExit;
    this.expectedExit ??= "requested";
    this.options.events.record({ at: Date.now(), service: this.name, kind: "signalled", signal });
    await this.thaw(running);
    const status = await killContainer(running, signal, this.limits);
    if (status === undefined)
      throw this.error(`did not stop within ${this.limits.killWaitMs} ms of SIGKILL`);
    return status;
  }

  async pause(): Promise<void> {
    if (this.current === "paused") return;
    await this.requireRunning("pause").container.pause();
    this.current = "paused";
    this.options.events.record({ at: Date.now(), service: this.name, kind: "paused" });
  }

  async resume(): Promise<void> {
    if (this.current !== "paused") return;
    await this.requireRunning("resume").container.unpause();
    this.current = "running";
    this.options.events.record({ at: Date.now(), service: this.name, kind: "resumed" });
  }

  /**
   * Stops it (SIGTERM) if it runs and starts the same container again: the same ports, data and
   * filesystem. With `wipeData`, a new container from the image on an emptied data directory.
   */
  async restart(options: RestartOptions = {}): Promise<void> {
    await this.kill("SIGTERM");
    if (options.wipeData === true) {
      await this.removeContainer();
      // Emptied, not replaced: the directory is what the next container mounts.
      const { dataDir } = this.options;
      for (const entry of await readdir(dataDir))
        await rm(path.join(dataDir, entry), { recursive: true, force: true });
    }
    if (this.container === undefined || this.client === undefined) await this.start();
    else await this.launch(this.client, this.container);
  }

  /** Resolves when its readiness probe passes; rejects with its last log lines. */
  async waitReady(timeoutMs = this.options.readyTimeoutMs): Promise<void> {
    const running = this.running;
    if (running === undefined) throw this.error(`is not running (${describeExit(this.lastExit)})`);
    const outcome = await this.untilReady(running, Date.now() + timeoutMs);
    if ("exited" in outcome)
      throw this.error(`stopped while waiting to be ready (${describeExit(this.lastExit)})`);
    if ("failure" in outcome)
      throw this.error(
        `not ready within ${timeoutMs} ms: ${describeProbe(this.options.readiness)} ${outcome.failure}`,
      );
  }

  /**
   * Whether it is healthy now, as seen from outside: its readiness probe passes. A log line,
   * once seen, only says that it started, so for one: its container runs.
   */
  async health(): Promise<boolean> {
    const running = this.running;
    if (running === undefined) return false;
    const probe = this.options.readiness;
    if ("logLine" in probe) return true;
    const found = await probeOnce(probe, {
      timeoutMs: PROBE_TIMEOUT_MS,
      logLineSeen: () => running.sight.logLineSeen,
    });
    return found === undefined;
  }

  /** The end of this service: its container stopped (SIGTERM, then SIGKILL) and removed. */
  async release(): Promise<void> {
    this.released = true;
    await this.creating;
    try {
      await this.kill("SIGTERM");
    } finally {
      await this.removeContainer();
    }
  }

  private async removeContainer(): Promise<void> {
    const container = this.container;
    this.container = undefined;
    if (container === undefined) return;
    await tolerate(container.remove({ force: true, v: true }), 404, 409);
  }

  /** Synchronous last resort at harness exit: its containers removed with the docker CLI. */
  killNow(): void {
    this.expectedExit ??= "requested";
    // By label, not by id: a container whose creation is in flight has no id here yet.
    removeContainersNow([`${LABEL_RUN}=${this.options.runId}`, `${LABEL_SERVICE}=${this.name}`]);
  }
}
