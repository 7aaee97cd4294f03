// The container runtime (docs/architecture.md §3): every service a container of the pipeline image,
// created with testcontainers and labelled with the run's id, on host networking (loopback ports,
// as processes) or on a private bridge network. Its logs go to a run directory on the host that is
// removed when the topology stops. A topology is registered with the cleanup registry for as
// long as it runs; what a SIGKILLed harness leaves behind, `spillway clean` removes.

import { rm } from "node:fs/promises";
import path from "node:path";
import type { ContainerRuntimeClient } from "testcontainers";
import type { Net } from "../../../pipeline/core/seam.ts";
import { createRealNet, realClock } from "../../../pipeline/host/real-seam.ts";
import { registerCleanup } from "../cleanup.ts";
import { EventLog } from "../events.ts";
import { directLinks, type LinkProvider } from "../links.ts";
import { componentArguments } from "../process/command-line.ts";
import { ServiceLog } from "../process/service-log.ts";
import { findService, type Runtime, type RunningTopology, type StartOptions } from "../runtime.ts";
import {
  linkName,
  parseTopology,
  type ServiceSpec,
  type Topology,
  type TopologySpec,
} from "../topology.ts";
import { dockerClient, dockerUnavailable } from "./docker.ts";
import { dockerNow, removeContainersNow } from "./docker-now.ts";
import { ENTRY_POINTS, IMAGE_APP_DIR } from "./image-inputs.ts";
import { buildPipelineImage, imageExists } from "./image.ts";
import { LABEL_RUN, newRunId, runLabels } from "./labels.ts";
import {
  hostNetworking,
  privateNetworking,
  type Networking,
  type NetworkMode,
} from "./networking.ts";
import {
  ContainerService,
  DEFAULT_CONTAINER_LIMITS,
  type ContainerLimits,
} from "./service-container.ts";
import { ToxiproxyContainerLinks } from "./toxiproxy-container.ts";
import { createRunDir } from "../run-dir.ts";

export interface ContainerRuntimeOptions {
  /** The pipeline image; default: the scratch image, built first if this project has none. */
  image?: string;
  /** Host networking on loopback (default), or a private bridge network per run. */
  network?: NetworkMode;
  /**
   * With a private network, the Toxiproxy image whose container holds the link proxies
   * (default: the pipeline image running Spillway's own fault proxy).
   */
  toxiproxyImage?: string;
  /** Where run directories (logs) are made (default the OS temp dir). */
  tempRoot?: string;
  /** Keep the run directory (logs) after stop, for a person to read. */
  keepRunDir?: boolean;
  limits?: Partial<ContainerLimits>;
  /** Hears about slow preparations (an image build), for a person waiting. */
  onStep?: (message: string) => void;
}

export interface ContainerTopology extends RunningTopology {
  readonly services: readonly ContainerService[];
  service(name: string): ContainerService;
  /** The value of the spillway.run label on every container and network of this topology. */
  readonly runId: string;
  /** Holds `logs/<service>.log`. */
  readonly runDir: string;
}

export interface ContainerRuntime extends Runtime {
  readonly kind: "container";
  start(topology: TopologySpec, options?: StartOptions): Promise<ContainerTopology>;
}

/** The component entry inside the image. */
const COMPONENT_SCRIPT = path.posix.join(IMAGE_APP_DIR, ENTRY_POINTS.component);
/** Where each service keeps its data inside its container. */
const DATA_ROOT = "/data";

interface RunContext {
  client: ContainerRuntimeClient;
  topology: Topology;
  runId: string;
  runDir: string;
  image: string;
  networking: Networking;
  links: LinkProvider;
  events: EventLog;
  limits: ContainerLimits;
  services: ContainerService[];
  /** Set when the topology is stopped: no service or link starts after it. */
  stopped: boolean;
  /** The starts in flight, settled (release waits for them, then removes what they made). */
  starting: Promise<void>;
}

/** Thrown by a start the topology's stop overtook (a SIGINT while the services were starting). */
class StoppedWhileStarting extends Error {
  constructor(runId: string) {
    super(`the containers of run ${runId} were stopped while they were starting`);
    this.name = "StoppedWhileStarting";
  }
}

class RunningContainerTopology implements ContainerTopology {
  readonly topology: Topology;
  readonly runId: string;
  readonly runDir: string;
  readonly clock = realClock;
  private readonly realNet = createRealNet();
  readonly net: Net = this.realNet;
  private readonly context: RunContext;
  private readonly keepRunDir: boolean;
  private readonly unregister: () => void;
  private stopping: Promise<void> | undefined;

  constructor(context: RunContext, keepRunDir: boolean) {
    this.context = context;
    this.topology = context.topology;
    this.runId = context.runId;
    this.runDir = context.runDir;
    this.keepRunDir = keepRunDir;
    this.unregister = registerCleanup({
      label: `container topology of run ${this.runId}`,
      run: () => this.stop(),
      runAtExit: () => this.removeNow(),
    });
  }

  get services(): readonly ContainerService[] {
    return this.context.services;
  }

  service(name: string): ContainerService {
    return findService(this.context.services, name);
  }

  events() {
    return this.context.events.list();
  }

  onEvent(listener: Parameters<EventLog["subscribe"]>[0]): () => void {
    return this.context.events.subscribe(listener);
  }

  stop(): Promise<void> {
    this.stopping ??= this.release();
    return this.stopping;
  }

  /** Every step runs even when one before it failed; the failures are reported together. */
  private async release(): Promise<void> {
    // A stop during the start (a signal) lets the starts in flight finish, starts nothing more,
    // and then removes all they made: a container created after its removal would be left.
    this.context.stopped = true;
    await this.context.starting;
    const { services, links, networking } = this.context;
    const outcomes = [
      ...(await Promise.allSettled(services.map((service) => service.release()))),
      ...(await Promise.allSettled([links.close()])),
    ];
    this.realNet.close();
    outcomes.push(...(await Promise.allSettled([networking.close()])));
    if (!this.keepRunDir) await rm(this.runDir, { recursive: true, force: true });
    this.unregister();
    const failures = outcomes.flatMap((outcome) =>
      outcome.status === "rejected" ? [outcome.reason as unknown] : [],
    );
    if (failures.length > 0)
      throw new AggregateError(failures, `stopping the containers of run ${this.runId} failed`);
  }

  /** At harness exit, when the event loop is gone: the docker CLI, if there is one. */
  private removeNow(): void {
    this.realNet.close();
    removeContainersNow([`${LABEL_RUN}=${this.runId}`]);
    if (this.context.networking.mode === "private")
      dockerNow("network", "rm", networkName(this.runId));
  }
}

function networkName(runId: string): string {
  return `spillway-${runId}`;
}

function createService(
  context: RunContext,
  spec: ServiceSpec,
): { service: ContainerService; connect(peers: Record<string, string>): void } {
  const log = new ServiceLog(path.join(context.runDir, "logs", `${spec.name}.log`), {
    lines: 1_000,
    lineChars: 8_192,
  });
  let peers: Record<string, string> = {};
  const dataDir = path.posix.join(DATA_ROOT, spec.name);
  const service = new ContainerService(spec, {
    client: context.client,
    launch: {
      image: context.image,
      command: (listen) => [
        COMPONENT_SCRIPT,
        ...componentArguments(context.topology, spec, { port: listen.port, dataDir, peers }),
        "--host",
        listen.host,
      ],
      labels: runLabels(context.runId),
    },
    networking: context.networking,
    log,
    events: context.events,
    limits: context.limits,
  });
  return { service, connect: (urls) => (peers = urls) };
}

/**
 * Starts every service as soon as its peers are ready, opening each of its links first, and
 * waits for every start in flight before reporting the first failure.
 */
async function startServices(context: RunContext): Promise<void> {
  const started = new Map<string, Promise<void>>();
  for (const spec of context.topology.services) {
    const { service, connect } = createService(context, spec);
    context.services.push(service);
    const peersReady = Promise.all((spec.peers ?? []).map((peer) => started.get(peer)));
    started.set(
      spec.name,
      peersReady.then(async () => {
        const peers: Record<string, string> = {};
        for (const peer of spec.peers ?? []) {
          const target = findService(context.services, peer);
          const upstream = context.networking.peerUrl(peer, target.url());
          if (context.stopped) throw new StoppedWhileStarting(context.runId);
          const link = await context.links.open({ name: linkName(spec.name, peer), upstream });
          peers[peer] = link.url;
        }
        connect(peers);
        if (context.stopped) throw new StoppedWhileStarting(context.runId);
        await service.start();
      }),
    );
  }
  const outcomes = await Promise.allSettled(started.values());
  const failure = outcomes.find((outcome) => outcome.status === "rejected");
  if (failure !== undefined) throw failure.reason;
}

export function containerRuntime(options: ContainerRuntimeOptions = {}): ContainerRuntime {
  if (options.toxiproxyImage !== undefined && options.network !== "private") {
    throw new Error(
      `toxiproxyImage "${options.toxiproxyImage}" needs a private network: a Toxiproxy container reaches the services by their names there (on host networking the fault proxy runs on the host)`,
    );
  }
  const limits = { ...DEFAULT_CONTAINER_LIMITS, ...options.limits };
  let image: Promise<string> | undefined;
  const resolveImage = async (): Promise<string> => {
    if (options.image === undefined)
      return (await buildPipelineImage({ onStep: options.onStep })).name;
    if (!(await imageExists(options.image))) {
      throw new Error(
        `--image: "${options.image}" is not an image of this Docker engine; build one with \`npx spillway images build\` or \`docker build -f images/Dockerfile\``,
      );
    }
    return options.image;
  };
  const runtime: ContainerRuntime = {
    kind: "container",
    clock: realClock,
    async start(spec, startOptions = {}) {
      const topology = parseTopology(spec);
      const unavailable = await dockerUnavailable();
      if (unavailable !== undefined)
        throw new Error(`the container runtime needs Docker: ${unavailable}`);
      image ??= resolveImage();
      const [client, imageName] = await Promise.all([dockerClient(), image]);
      const runId = newRunId();
      const runDir = await createRunDir({ root: options.tempRoot, runId });
      const networking =
        options.network === "private"
          ? await privateNetworking(client, networkName(runId), runLabels(runId))
          : hostNetworking();
      const context: RunContext = {
        client,
        topology,
        runId,
        runDir,
        image: imageName,
        networking,
        links: startOptions.links ?? directLinks(),
        events: new EventLog(),
        limits,
        services: [],
        stopped: false,
        starting: Promise.resolve(),
      };
      const running = new RunningContainerTopology(context, options.keepRunDir ?? false);
      if (context.links instanceof ToxiproxyContainerLinks && networking.network !== undefined) {
        context.links.attach({
          network: networking.network,
          labels: runLabels(runId),
          pipelineImage: imageName,
        });
      }
      try {
        const starting = startServices(context);
        context.starting = starting.then(
          () => undefined,
          () => undefined,
        );
        await starting;
        if (context.stopped) throw new StoppedWhileStarting(runId);
      } catch (error) {
        await running.stop().catch(() => {});
        throw error;
      }
      return running;
    },
  };
  // In a private network the host's fault proxy cannot reach the services: links go through a
  // Toxiproxy container of the run's own.
  if (options.network === "private")
    runtime.faultLinks = () => new ToxiproxyContainerLinks(options.toxiproxyImage);
  return runtime;
}
