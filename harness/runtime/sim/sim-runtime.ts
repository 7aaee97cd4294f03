// The sim runtime (docs/architecture.md §3): the whole topology in this process under virtual time.
// A Simulation owns the scheduler, the network, the seeds and the trace; its runtime starts
// topologies on it, and `run` drives virtual time until the harness code given to it finishes.
// The same experiment runner, faults, workload, ledger and invariants run on it unchanged.

import type { Net } from "../../../pipeline/core/seam.ts";
import { seededRng } from "../../../pipeline/core/seeded-rng.ts";
import type { LinkControl } from "../../faults/fault.ts";
import { EventLog } from "../events.ts";
import { directLinks, type LinkProvider } from "../links.ts";
import { findService, type Runtime, type RunningTopology, type StartOptions } from "../runtime.ts";
import { linkName, parseTopology, type Topology, type TopologySpec } from "../topology.ts";
import { Gate } from "./gate.ts";
import { Scheduler, SIM_EPOCH_MS } from "./scheduler.ts";
import { SimNet } from "./sim-net.ts";
import { mix, SimService } from "./sim-service.ts";

export interface SimulationOptions {
  seed: number;
  /** Keep a line per happening (requests, timers of note, faults), to compare runs. */
  trace?: boolean;
  /** Most virtual time one `run` may take. */
  maxVirtualMs?: number;
}

export interface SimTopology extends RunningTopology {
  readonly services: readonly SimService[];
  service(name: string): SimService;
}

export interface SimRuntime extends Runtime {
  readonly kind: "sim";
  start(topology: TopologySpec, options?: StartOptions): Promise<SimTopology>;
  faultLinks(): LinkProvider & LinkControl;
}

class RunningSimTopology implements SimTopology {
  readonly topology: Topology;
  readonly services: SimService[] = [];
  readonly clock;
  readonly net: Net;
  private readonly eventLog: EventLog;
  private readonly links: LinkProvider;
  private stopping: Promise<void> | undefined;

  constructor(simulation: Simulation, topology: Topology, events: EventLog, links: LinkProvider) {
    this.topology = topology;
    this.clock = simulation.scheduler.clock();
    this.net = simulation.harnessNet;
    this.eventLog = events;
    this.links = links;
  }

  service(name: string): SimService {
    return findService(this.services, name);
  }

  events(): ReturnType<RunningTopology["events"]> {
    return this.eventLog.list();
  }

  onEvent(listener: Parameters<RunningTopology["onEvent"]>[0]): () => void {
    return this.eventLog.subscribe(listener);
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      for (const service of [...this.services].reverse()) await service.kill("SIGKILL");
      await this.links.close();
    })();
    return this.stopping;
  }
}

export class Simulation {
  readonly seed: number;
  readonly scheduler: Scheduler;
  readonly network: SimNet;
  /** How the harness (runner, workload, observer, faults) reaches the services. */
  readonly harnessNet: Net;
  readonly runtime: SimRuntime;
  private readonly maxVirtualMs: number;

  constructor(options: SimulationOptions) {
    this.seed = options.seed;
    this.maxVirtualMs = options.maxVirtualMs ?? 3_600_000;
    this.scheduler = new Scheduler({ trace: options.trace === true });
    this.network = new SimNet(this.scheduler, seededRng(mix(options.seed, "network")));
    this.harnessNet = this.network.view("harness", new Gate());
    this.runtime = {
      kind: "sim",
      clock: this.scheduler.clock(),
      faultLinks: () => this.network.faultLinks(),
      awaitOutside: (outside) => this.scheduler.hold(outside),
      start: (spec, startOptions) => this.startTopology(spec, startOptions),
    };
  }

  /** Runs harness code under this simulation's virtual time until it settles. */
  run<T>(main: () => Promise<T>): Promise<T> {
    return this.scheduler.run(main, { maxVirtualMs: this.maxVirtualMs });
  }

  /** The trace so far (empty unless tracing is on). */
  trace(): readonly string[] {
    return this.scheduler.trace ?? [];
  }

  /** Virtual milliseconds since the simulation began. */
  elapsedMs(): number {
    return this.scheduler.now() - SIM_EPOCH_MS;
  }

  private async startTopology(
    spec: TopologySpec,
    options: StartOptions = {},
  ): Promise<SimTopology> {
    const topology = parseTopology(spec);
    const links = options.links ?? directLinks();
    const events = new EventLog();
    const running = new RunningSimTopology(this, topology, events, links);
    try {
      for (const serviceSpec of topology.services) {
        const service = new SimService(serviceSpec, {
          scheduler: this.scheduler,
          net: this.network,
          events,
          topology,
          seed: this.seed,
        });
        running.services.push(service);
        const peers: Record<string, string> = {};
        for (const peer of serviceSpec.peers ?? []) {
          const upstream = findService(running.services, peer).url();
          peers[peer] = (
            await links.open({ name: linkName(serviceSpec.name, peer), upstream })
          ).url;
        }
        service.connect(peers);
        await service.start();
      }
    } catch (error) {
      await running.stop().catch(() => {});
      throw error;
    }
    return running;
  }
}

/** A simulation with the given seed; its `runtime` is what `runExperiment` takes. */
export function createSimulation(options: SimulationOptions): Simulation {
  return new Simulation(options);
}
