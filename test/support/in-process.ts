// Runs pipeline components inside the test process: requests between them go straight to
// their handlers (no sockets), disks are in memory with crash semantics (unsynced data is lost),
// the clock is real. Enough to show each flaw and safeguard quickly and deterministically.

import type { Component } from "../../pipeline/core/component.ts";
import { COMPONENT_FACTORIES, type ComponentName } from "../../pipeline/components.ts";
import { resolveFlaws } from "../../pipeline/core/flaws.ts";
import { resolveLimits, type Limits } from "../../pipeline/core/limits.ts";
import {
  NetError,
  type Disk,
  type HttpRequest,
  type HttpResponse,
  type Log,
  type Net,
  type Seam,
} from "../../pipeline/core/seam.ts";
import { realClock } from "../../pipeline/host/real-seam.ts";

export type DiskOperation = "append" | "sync" | "remove" | "replace";

export class MemoryDisk implements Disk {
  private readonly synced = new Map<string, string>();
  private readonly unsynced = new Map<string, string>();
  /** Set by a crash: the dead process's late writes go nowhere. */
  private frozen = false;
  private failing: ReadonlySet<DiskOperation> = new Set();
  private syncsHeld: Promise<void> | null = null;

  /** From now on these operations fail with EIO, as on a dying disk, until `repair`. */
  failFrom(operations: readonly DiskOperation[]): void {
    this.failing = new Set(operations);
  }
  repair(): void {
    this.failing = new Set();
  }
  /** Syncs wait until the returned function is called (a slow disk). */
  holdSyncs(): () => void {
    let release = (): void => {};
    this.syncsHeld = new Promise((resolve) => (release = resolve));
    return () => {
      this.syncsHeld = null;
      release();
    };
  }
  private fail(operation: DiskOperation, name: string): void {
    if (!this.failing.has(operation)) return;
    const error: NodeJS.ErrnoException = new Error(`EIO: i/o error, ${operation} '${name}'`);
    error.code = "EIO";
    throw error;
  }

  async append(name: string, data: string): Promise<void> {
    if (this.frozen) return;
    this.fail("append", name);
    this.unsynced.set(name, (this.unsynced.get(name) ?? "") + data);
  }
  async sync(name: string): Promise<void> {
    await this.syncsHeld;
    if (this.frozen) return;
    this.fail("sync", name);
    this.synced.set(name, (this.synced.get(name) ?? "") + (this.unsynced.get(name) ?? ""));
    this.unsynced.delete(name);
  }
  async read(name: string): Promise<string | null> {
    if (!this.synced.has(name) && !this.unsynced.has(name)) return null;
    return (this.synced.get(name) ?? "") + (this.unsynced.get(name) ?? "");
  }
  async list(prefix: string): Promise<string[]> {
    const names = new Set([...this.synced.keys(), ...this.unsynced.keys()]);
    return [...names].filter((name) => name.startsWith(prefix)).sort();
  }
  async remove(name: string): Promise<void> {
    this.fail("remove", name);
    this.synced.delete(name);
    this.unsynced.delete(name);
  }
  async replace(name: string, data: string): Promise<void> {
    this.fail("replace", name);
    this.unsynced.delete(name);
    this.synced.set(name, data);
  }
  /** What survives a power cut or SIGKILL: only synced data. */
  crash(): void {
    this.unsynced.clear();
    this.frozen = true;
  }
  /** A new process starts on what survived. */
  revive(): void {
    this.frozen = false;
  }
}

export const quietLog: Log = { info() {}, warn() {}, error() {} };

type Behaviour = "up" | "down" | "hang";

/** Routes `http://<name>/...` to the registered handlers. */
export class HandlerNet implements Net {
  private readonly handlers = new Map<string, (request: HttpRequest) => Promise<HttpResponse>>();
  private readonly behaviour = new Map<string, Behaviour>();

  register(name: string, handler: (request: HttpRequest) => Promise<HttpResponse>): void {
    this.handlers.set(name, handler);
    this.behaviour.set(name, "up");
  }
  set(name: string, behaviour: Behaviour): void {
    this.behaviour.set(name, behaviour);
  }

  async request(request: {
    method: string;
    url: string;
    body?: string;
    timeoutMs: number;
  }): Promise<HttpResponse> {
    const url = new URL(request.url);
    const handler = this.handlers.get(url.host);
    const behaviour = this.behaviour.get(url.host) ?? "down";
    if (handler === undefined || behaviour === "down")
      throw new NetError("refused", `${url.host} is down`);
    if (behaviour === "hang") {
      await realClock.sleep(request.timeoutMs);
      throw new NetError("timeout", `no answer from ${url.host}`);
    }
    return handler({
      method: request.method,
      path: url.pathname,
      query: url.searchParams,
      headers: {},
      body: request.body ?? "",
    });
  }
}

export const FAST_LIMITS: Partial<Limits> = {
  configPollMs: 20,
  leaseWaitMs: 20,
  bufferTimeoutMs: 200,
  retryBaseMs: 5,
  retryMaxMs: 40,
  pushbackRetryMs: 20,
  volatileFlushMs: 100_000,
  leaseMs: 1_000,
  pushTimeoutMs: 200,
};

export interface InProcessOptions {
  profile?: string;
  flaws?: string[];
  limits?: Partial<Limits>;
  settings?: Partial<Record<ComponentName, Record<string, unknown>>>;
}

/** A started set of components named like their component (`sink-0` for the one sink). */
export class InProcessPipeline {
  readonly net = new HandlerNet();
  readonly disks = new Map<string, MemoryDisk>();
  readonly components = new Map<string, Component>();
  private readonly options: InProcessOptions;
  readonly limits: Limits;

  constructor(options: InProcessOptions = {}) {
    this.options = options;
    this.limits = resolveLimits({ ...FAST_LIMITS, ...options.limits });
  }

  private seam(name: string): Seam {
    let disk = this.disks.get(name);
    if (disk === undefined) {
      disk = new MemoryDisk();
      this.disks.set(name, disk);
    }
    disk.revive();
    return { clock: realClock, rng: { next: () => 0.5 }, net: this.net, disk, log: quietLog };
  }

  async start(name: string, component: ComponentName): Promise<Component> {
    const peers = { config: "http://config", buffer: "http://buffer", "sink-0": "http://sink-0" };
    const instance = COMPONENT_FACTORIES[component]({
      seam: this.seam(name),
      flaws: resolveFlaws(this.options.profile ?? "hardened", this.options.flaws),
      limits: this.limits,
      instance: name,
      peers,
      settings: this.options.settings?.[component] ?? {},
    });
    await instance.start();
    this.net.register(name, instance.handle);
    this.components.set(name, instance);
    return instance;
  }

  /** Starts config, sink-0, buffer, pusher and forwarder in dependency order. */
  async startAll(): Promise<void> {
    await this.start("config", "config");
    await this.start("sink-0", "sink");
    await this.start("buffer", "buffer");
    await this.start("pusher", "pusher");
    await this.start("forwarder", "forwarder");
  }

  /** SIGKILL: the component stops answering, its volatile state and unsynced writes are gone. */
  async crash(name: string): Promise<void> {
    const component = this.components.get(name);
    this.net.set(name, "down");
    this.disks.get(name)?.crash();
    await component?.stop();
  }

  async call(name: string, method: string, path: string, body = ""): Promise<HttpResponse> {
    return this.net.request({ method, url: `http://${name}${path}`, body, timeoutMs: 5_000 });
  }

  async stopAll(): Promise<void> {
    for (const component of this.components.values()) await component.stop();
  }
}

export async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 5_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await realClock.sleep(10);
  }
}
