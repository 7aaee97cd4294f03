// The process runtime (docs/architecture.md §3): every service a child process on a loopback port,
// its logs and data in a run directory that is removed when the topology stops. A topology is
// registered with the cleanup registry for as long as it runs, and a watchdog process covers
// the SIGKILL of the harness while a service is paused.

import { mkdirSync, rmSync } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { registerCleanup, ReleaseSteps } from "../cleanup.ts";
import { EventLog } from "../events.ts";
import { directLinks, type LinkProvider } from "../links.ts";
import { findService, type Runtime, type RunningTopology, type StartOptions } from "../runtime.ts";
import {
  linkName,
  parseTopology,
  type ServiceSpec,
  type Topology,
  type TopologySpec,
} from "../topology.ts";
import type { Net } from "../../../pipeline/core/seam.ts";
import { createRealNet, realClock } from "../../../pipeline/host/real-seam.ts";
import { componentArguments } from "./command-line.ts";
import { DEFAULT_PROCESS_LIMITS, ProcessService, type ProcessLimits } from "./service-process.ts";
import { ServiceLog } from "./service-log.ts";
import { startWatchdog, type Watchdog } from "./watchdog.ts";
import { createRunDir } from "../run-dir.ts";

export const COMPONENT_ENTRY = fileURLToPath(
  new URL("../../../pipeline/host/main.ts", import.meta.url),
);

export interface ProcessRuntimeOptions {
  /** The script every component runs as (default pipeline/host/main.ts). */
  entry?: string;
  /** The Node binary (default the one running the harness). */
  node?: string;
  /** Where run directories are made (default the OS temp dir). */
  tempRoot?: string;
  /** Keep the run directory (logs, data) after stop, for a person to read. */
  keepRunDir?: boolean;
  limits?: Partial<ProcessLimits>;
}

export interface ProcessTopology extends RunningTopology {
  readonly services: readonly ProcessService[];
  service(name: string): ProcessService;
  /** Holds `logs/<service>.log` and `data/<service>/`. */
  readonly runDir: string;
}

export interface ProcessRuntime extends Runtime {
  readonly kind: "process";
  start(topology: TopologySpec, options?: StartOptions): Promise<ProcessTopology>;
}

interface RunContext {
  topology: Topology;
  runDir: string;
  links: LinkProvider;
  events: EventLog;
  watchdog: Watchdog;
  services: ProcessService[];
}

class RunningProcessTopology implements ProcessTopology {
  readonly topology: Topology;
  readonly runDir: string;
  readonly clock = realClock;
  private readonly realNet = createRealNet();
  readonly net: Net = this.realNet;
  private readonly context: RunContext;
  private readonly logs: ServiceLog[] = [];
  private readonly keepRunDir: boolean;
  private readonly unregister: () => void;
  private stopping: Promise<void> | undefined;

  constructor(context: RunContext, keepRunDir: boolean) {
    this.context = context;
    this.topology = context.topology;
    this.runDir = context.runDir;
    this.keepRunDir = keepRunDir;
    this.unregister = registerCleanup({
      label: `process topology in ${this.runDir}`,
      run: () => this.stop(),
      runAtExit: () => this.stopNow(),
    });
  }

  get services(): readonly ProcessService[] {
    return this.context.services;
  }

  service(name: string): ProcessService {
    return findService(this.context.services, name);
  }

  events() {
    return this.context.events.list();
  }

  onEvent(listener: Parameters<EventLog["subscribe"]>[0]): () => void {
    return this.context.events.subscribe(listener);
  }

  addLog(log: ServiceLog): void {
    this.logs.push(log);
  }

  stop(): Promise<void> {
    this.stopping ??= this.release();
    return this.stopping;
  }

  private async release(): Promise<void> {
    const steps = new ReleaseSteps();
    const attempt = (step: () => Promise<unknown>) => steps.attempt(step);
    await Promise.all(
      this.context.services.map((service) => attempt(() => service.kill("SIGTERM"))),
    );
    await attempt(() => this.context.links.close());
    this.realNet.close();
    await attempt(() => this.context.watchdog.close());
    await Promise.all(this.logs.map((log) => attempt(() => log.close())));
    if (!this.keepRunDir) await attempt(() => rm(this.runDir, { recursive: true, force: true }));
    this.unregister();
    steps.throwIfAny(`stopping the topology in ${this.runDir} failed`);
  }

  /** At harness exit, when there is no time for stop(): kill everything, remove the run dir. */
  private stopNow(): void {
    this.realNet.close();
    for (const service of this.context.services) service.killNow();
    if (!this.keepRunDir) rmSync(this.runDir, { recursive: true, force: true });
  }
}

function createService(
  running: RunningProcessTopology,
  context: RunContext,
  spec: ServiceSpec,
  options: { node: string; entry: string; limits: ProcessLimits },
): { service: ProcessService; connect(peers: Record<string, string>): void } {
  const dataDir = path.join(context.runDir, "data", spec.name);
  mkdirSync(dataDir, { recursive: true });
  const log = new ServiceLog(path.join(context.runDir, "logs", `${spec.name}.log`), {
    lines: options.limits.logLines,
    lineChars: options.limits.logLineChars,
  });
  running.addLog(log);
  let peers: Record<string, string> = {};
  const service = new ProcessService(spec, {
    launch: {
      node: options.node,
      entry: options.entry,
      argumentsFor: (port) => componentArguments(context.topology, spec, { port, dataDir, peers }),
      dataDir,
    },
    log,
    events: context.events,
    watchdog: context.watchdog,
    limits: options.limits,
  });
  return { service, connect: (urls) => (peers = urls) };
}

/**
 * Starts every service as soon as its peers are ready (so independent services start
 * together), opening each of its links first. Waits for every start in flight before
 * reporting the first failure, so that stop() finds no process half-started.
 */
async function startAll(
  running: RunningProcessTopology,
  context: RunContext,
  options: { node: string; entry: string; limits: ProcessLimits },
): Promise<void> {
  const started = new Map<string, Promise<void>>();
  for (const spec of context.topology.services) {
    const { service, connect } = createService(running, context, spec, options);
    context.services.push(service);
    const peersReady = Promise.all((spec.peers ?? []).map((peer) => started.get(peer)));
    const start = peersReady.then(async () => {
      const peers: Record<string, string> = {};
      for (const peer of spec.peers ?? []) {
        const upstream = findService(context.services, peer).url();
        peers[peer] = (await context.links.open({ name: linkName(spec.name, peer), upstream })).url;
      }
      connect(peers);
      await service.start();
    });
    started.set(spec.name, start);
  }
  const outcomes = await Promise.allSettled(started.values());
  const failure = outcomes.find((outcome) => outcome.status === "rejected");
  if (failure !== undefined) throw failure.reason;
}

export function processRuntime(options: ProcessRuntimeOptions = {}): ProcessRuntime {
  const settings = {
    node: options.node ?? process.execPath,
    entry: options.entry ?? COMPONENT_ENTRY,
    limits: { ...DEFAULT_PROCESS_LIMITS, ...options.limits },
  };
  return {
    kind: "process",
    clock: realClock,
    async start(spec, startOptions = {}) {
      const topology = parseTopology(spec);
      const runDir = await createRunDir({ root: options.tempRoot });
      const context: RunContext = {
        topology,
        runDir,
        links: startOptions.links ?? directLinks(),
        events: new EventLog(),
        watchdog: startWatchdog(settings.node),
        services: [],
      };
      const running = new RunningProcessTopology(context, options.keepRunDir ?? false);
      try {
        await startAll(running, context, settings);
      } catch (error) {
        await running.stop().catch(() => {});
        throw error;
      }
      return running;
    },
  };
}
