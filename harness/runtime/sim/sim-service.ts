// One service of a simulated topology: the real component of pipeline/ in this process, with
// its own seam (virtual clock, seeded rng, simulated net and disk) behind a gate per
// incarnation. Kill is a crash (volatile state and unsynced writes lost, connections reset),
// pause freezes it, restart starts a new incarnation on what its disk kept, and a memory cap
// kills it when the memory model passes the cap.

import { COMPONENT_FACTORIES } from "../../../pipeline/components.ts";
import type { Component } from "../../../pipeline/core/component.ts";
import { resolveFlaws } from "../../../pipeline/core/flaws.ts";
import { resolveLimits } from "../../../pipeline/core/limits.ts";
import type { Log, Seam } from "../../../pipeline/core/seam.ts";
import { seededRng } from "../../../pipeline/core/seeded-rng.ts";
import type { EventLog } from "../events.ts";
import type {
  ExitCause,
  ExitStatus,
  LogLine,
  RestartOptions,
  ServiceHandle,
  ServiceState,
} from "../runtime.ts";
import { checkMemoryCap } from "../runtime.ts";
import { effectiveProfile, type ServiceSpec, type Topology } from "../topology.ts";
import { Gate } from "./gate.ts";
import type { Scheduler } from "./scheduler.ts";
import { SimDiskStore } from "./sim-disk.ts";
import type { SimNet } from "./sim-net.ts";

const MIB = 1024 * 1024;

/**
 * The memory model: a Node process's baseline plus a multiple of the bytes the component
 * holds (the text, its parsed objects and indexes). Calibrated loosely on the process runtime,
 * where a legacy buffer holding ~30 MB of events reached ~220 MB of RSS.
 */
export const MEMORY_MODEL = { baseMb: 40, perHeldByte: 4 } as const;

/** How often a memory cap is checked, as the process runtime polls RSS. */
const MEMORY_POLL_MS = 100;
/** How long a graceful stop may take before the process is killed. */
const STOP_GRACE_MS = 3_000;
const LOG_LINES = 200;

export interface SimServiceOptions {
  scheduler: Scheduler;
  net: SimNet;
  events: EventLog;
  topology: Topology;
  seed: number;
}

export class SimService implements ServiceHandle {
  readonly name: string;
  readonly component: ServiceSpec["component"];
  private readonly spec: ServiceSpec;
  private readonly options: SimServiceOptions;
  private readonly disk = new SimDiskStore();
  private readonly logLines: LogLine[] = [];
  private peers: Record<string, string> = {};
  private current: ServiceState = "exited";
  private gate: Gate = new Gate();
  private instance: Component | null = null;
  private incarnation = 0;
  private memoryCapMb: number | undefined;
  private memoryTimer: { cancel(): void } | null = null;
  private lastExit: ExitStatus = { code: null, signal: null };

  constructor(spec: ServiceSpec, options: SimServiceOptions) {
    this.name = spec.name;
    this.component = spec.component;
    this.spec = spec;
    this.options = options;
    this.memoryCapMb = spec.memoryCapMb;
    this.gate.kill();
  }

  url(): string {
    return `http://${this.name}`;
  }

  pid(): number | undefined {
    return undefined;
  }

  state(): ServiceState {
    return this.current;
  }

  logs(): readonly LogLine[] {
    return [...this.logLines];
  }

  setMemoryCap(megabytes: number | undefined): void {
    checkMemoryCap(this.name, megabytes);
    this.memoryCapMb = megabytes;
    this.watchMemory();
  }

  async memoryBytes(): Promise<number | undefined> {
    return this.modelledMemory();
  }

  connect(peers: Record<string, string>): void {
    this.peers = peers;
  }

  /** Starts a new incarnation on what the disk kept and waits until it serves. */
  async start(): Promise<void> {
    const { scheduler, net, events, topology, seed } = this.options;
    this.incarnation++;
    const gate = new Gate();
    this.gate = gate;
    this.current = "starting";
    events.record({ at: scheduler.now(), service: this.name, kind: "started" });
    scheduler.record(`${this.name} start #${this.incarnation}`);
    const { profile, flaws } = effectiveProfile(topology, this.spec);
    const seam: Seam = {
      clock: scheduler.clock((fn) => gate.wrap(fn)),
      rng: seededRng(mix(seed, `${this.name}#${this.incarnation}`)),
      net: net.view(this.name, gate),
      disk: this.disk.view(gate),
      log: this.log(),
    };
    const instance = COMPONENT_FACTORIES[this.spec.component]({
      seam,
      flaws: resolveFlaws(profile, flaws),
      limits: resolveLimits(this.spec.limits ?? {}),
      instance: this.name,
      peers: this.peers,
      settings: this.spec.settings ?? {},
    });
    this.instance = instance;
    await instance.start();
    if (!gate.isAlive()) throw new Error(`${this.name} died while starting`);
    net.setEndpoint(this.name, { gate, handler: instance.handle, listening: true });
    this.current = gate.isPaused() ? "paused" : "running";
    events.record({ at: scheduler.now(), service: this.name, kind: "ready", url: this.url() });
    this.watchMemory();
  }

  async kill(signal: NodeJS.Signals = "SIGKILL"): Promise<ExitStatus> {
    if (this.current === "exited") return this.lastExit;
    const { scheduler, events } = this.options;
    events.record({ at: scheduler.now(), service: this.name, kind: "signalled", signal });
    if (signal === "SIGKILL") return this.die("requested", { code: null, signal });
    return this.stopGracefully("requested");
  }

  async pause(): Promise<void> {
    if (this.current !== "running")
      throw new Error(`${this.name} is ${this.current}: cannot pause`);
    this.gate.pause();
    this.current = "paused";
    this.record("paused");
  }

  async resume(): Promise<void> {
    if (this.current !== "paused") return;
    this.current = "running";
    this.record("resumed");
    this.gate.resume();
  }

  async restart(options: RestartOptions = {}): Promise<void> {
    if (this.current !== "exited") await this.stopGracefully("requested");
    if (options.wipeData === true) this.disk.wipe();
    await this.start();
  }

  async waitReady(): Promise<void> {
    if (this.current === "running" || this.current === "paused") return;
    const tail = this.logLines
      .slice(-10)
      .map((line) => line.text)
      .join("\n");
    throw new Error(`${this.name} is ${this.current}, not ready${tail === "" ? "" : `:\n${tail}`}`);
  }

  /** SIGTERM: the component stops its loops and flushes, then the process exits. */
  private async stopGracefully(cause: ExitCause): Promise<ExitStatus> {
    if (this.current === "paused") await this.resume();
    const instance = this.instance;
    const gate = this.gate;
    this.options.net.setEndpoint(this.name, { gate, handler: null, listening: false });
    const stopped = await Promise.race([
      (instance?.stop() ?? Promise.resolve()).then(() => true),
      this.options.scheduler
        .clock()
        .sleep(STOP_GRACE_MS)
        .then(() => false),
    ]);
    if (!gate.isAlive()) return this.lastExit;
    if (stopped) {
      this.disk.flush();
      return this.exit(cause, { code: 0, signal: null });
    }
    return this.die(cause, { code: null, signal: "SIGKILL" });
  }

  /** A crash: the incarnation's code never runs again and unsynced writes are gone. */
  private die(cause: ExitCause, status: ExitStatus): ExitStatus {
    this.disk.crash();
    return this.exit(cause, status);
  }

  private exit(cause: ExitCause, status: ExitStatus): ExitStatus {
    const { scheduler, net, events } = this.options;
    const gate = this.gate;
    net.setEndpoint(this.name, { gate, handler: null, listening: false });
    gate.kill();
    this.instance = null;
    this.memoryTimer?.cancel();
    this.memoryTimer = null;
    this.current = "exited";
    this.lastExit = status;
    scheduler.record(`${this.name} exit ${cause} ${status.signal ?? status.code}`);
    events.record({ at: scheduler.now(), service: this.name, kind: "exited", cause, ...status });
    return status;
  }

  private modelledMemory(): number | undefined {
    if (this.instance === null) return undefined;
    const held = this.instance.heldBytes?.() ?? 0;
    return MEMORY_MODEL.baseMb * MIB + MEMORY_MODEL.perHeldByte * held;
  }

  /** Checks the cap every MEMORY_POLL_MS of virtual time while the service runs. */
  private watchMemory(): void {
    this.memoryTimer?.cancel();
    this.memoryTimer = null;
    if (this.memoryCapMb === undefined || this.instance === null) return;
    const { scheduler, events } = this.options;
    const gate = this.gate;
    const check = (): void => {
      const capMb = this.memoryCapMb;
      const bytes = this.modelledMemory();
      if (capMb === undefined || bytes === undefined || !gate.isAlive()) return;
      if (bytes > capMb * MIB) {
        const rssMb = Math.ceil((bytes / MIB) * 10) / 10;
        events.record({
          at: scheduler.now(),
          service: this.name,
          kind: "memory-cap-exceeded",
          rssMb,
          capMb,
        });
        this.die("memory-cap", { code: null, signal: "SIGKILL" });
        return;
      }
      this.memoryTimer = scheduler.schedule(MEMORY_POLL_MS, check);
    };
    this.memoryTimer = scheduler.schedule(MEMORY_POLL_MS, check);
  }

  private record(kind: "paused" | "resumed"): void {
    const { scheduler, events } = this.options;
    scheduler.record(`${this.name} ${kind}`);
    events.record({ at: scheduler.now(), service: this.name, kind });
  }

  private log(): Log {
    const { scheduler } = this.options;
    const write = (level: string, message: string, fields?: Record<string, unknown>): void => {
      const text = `${level} ${message}${fields === undefined ? "" : ` ${JSON.stringify(fields)}`}`;
      this.logLines.push({ at: scheduler.now(), stream: "stdout", text });
      if (this.logLines.length > LOG_LINES) this.logLines.shift();
      scheduler.record(`${this.name} log ${text}`);
    };
    return {
      info: (message, fields) => write("info", message, fields),
      warn: (message, fields) => write("warn", message, fields),
      error: (message, fields) => write("error", message, fields),
    };
  }
}

/** A 32-bit seed from a seed and a name (FNV-1a), so each service draws its own stream. */
export function mix(seed: number, name: string): number {
  let hash = (0x811c9dc5 ^ (seed >>> 0)) >>> 0;
  for (let index = 0; index < name.length; index++) {
    hash = Math.imul(hash ^ name.charCodeAt(index), 0x01000193) >>> 0;
  }
  return hash;
}
