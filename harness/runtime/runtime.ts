// The one interface of every runtime (docs/architecture.md §3): process, sim and container
// implement it, so the same experiment runs on all three.

import type { Clock, Net } from "../../pipeline/core/seam.ts";
import type { LinkControl } from "../faults/fault.ts";
import type { LinkProvider } from "./links.ts";
import type { ServiceSpec, Topology, TopologySpec } from "./topology.ts";

export type ServiceState = "starting" | "running" | "paused" | "exited";

/** Why a service stopped: the harness asked for it, its memory cap, or nobody (a crash). */
export type ExitCause = "requested" | "memory-cap" | "crash";

export interface ExitStatus {
  code: number | null;
  signal: string | null;
}

interface EventBase {
  /** Milliseconds since the epoch (real runtimes) or since the start (sim). */
  at: number;
  service: string;
}

export type RuntimeEvent = EventBase &
  (
    | { kind: "started"; pid?: number }
    | { kind: "ready"; url: string }
    | { kind: "signalled"; signal: string }
    | { kind: "paused" }
    | { kind: "resumed" }
    | { kind: "memory-cap-exceeded"; rssMb: number; capMb: number }
    | ({ kind: "exited"; cause: ExitCause } & ExitStatus)
  );

export interface LogLine {
  at: number;
  stream: "stdout" | "stderr";
  text: string;
}

export interface RestartOptions {
  wipeData?: boolean;
}

export interface ServiceHandle {
  readonly name: string;
  /** The pipeline component it runs, or `target` for a target's own software (docs/targets.md). */
  readonly component: ServiceSpec["component"] | "target";
  /** Base URL at which the harness reaches the service (not through any fault proxy). */
  url(): string;
  /** OS process id while it runs, where the runtime has one. */
  pid(): number | undefined;
  state(): ServiceState;
  /**
   * Sends `signal` (default SIGKILL) and resolves once the service has exited; a paused
   * service is resumed so the signal takes effect, and one still alive after the runtime's
   * grace period is SIGKILLed. The service stays down until `restart()`.
   */
  kill(signal?: NodeJS.Signals): Promise<ExitStatus>;
  /** Freezes the service (SIGSTOP or container pause): it holds its state and answers nothing. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /**
   * Stops the service if it runs, starts it again with the same address and data (or, with
   * `wipeData`, an empty data directory: an operator's full reset), and waits until ready.
   */
  restart(options?: RestartOptions): Promise<void>;
  /** Resolves when the service answers /healthz with 200; rejects with its last log lines. */
  waitReady(timeoutMs?: number): Promise<void>;
  /**
   * Whether it is healthy now, for services without /healthz (a target's software: its
   * readiness probe); absent, /healthz answering 200 is the health.
   */
  health?(): Promise<boolean>;
  /** The most recent log lines, oldest first (bounded). */
  logs(): readonly LogLine[];
  /** Kills the service when its memory exceeds `megabytes`; undefined lifts the cap. */
  setMemoryCap(megabytes: number | undefined): void;
  /** Its memory now (RSS on processes, the model's figure on the simulator), if known. */
  memoryBytes(): Promise<number | undefined>;
}

export interface RunningTopology {
  readonly topology: Topology;
  /** Services in start order. */
  readonly services: readonly ServiceHandle[];
  /** The service named `name`; throws naming the known services when there is none. */
  service(name: string): ServiceHandle;
  /** The runtime's time: the wall clock, or the simulator's virtual clock. */
  readonly clock: Clock;
  /** How the harness reaches the services' URLs (real sockets, or the simulated network). */
  readonly net: Net;
  /** Everything that happened to the services, oldest first (bounded). */
  events(): readonly RuntimeEvent[];
  /** Calls `listener` for every event from now on; returns the unsubscribe function. */
  onEvent(listener: (event: RuntimeEvent) => void): () => void;
  /** Stops every service, closes the links and releases what the runtime created. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** How services reach their peers; direct links by default. */
  links?: LinkProvider;
}

export interface Runtime {
  readonly kind: "process" | "sim" | "container";
  /** The time every topology of this runtime keeps (see RunningTopology.clock). */
  readonly clock: Clock;
  /**
   * Fault links of the runtime's own making (the simulator's network); runtimes on real sockets
   * leave it out and network faults go through a Toxiproxy-compatible fault proxy.
   */
  faultLinks?(): LinkProvider & LinkControl;
  /**
   * Waits for something outside the runtime's time (a facilitator's go, `spillway run --step`).
   * The simulator stops its virtual time meanwhile; runtimes on the real clock leave it out.
   */
  awaitOutside?<T>(outside: Promise<T>): Promise<T>;
  /**
   * Validates the topology (TopologyError), starts every service, peers first, and resolves
   * once all are ready. On failure, whatever was started is stopped before it rejects.
   */
  start(topology: TopologySpec, options?: StartOptions): Promise<RunningTopology>;
}

/** The service named `name` among `services`, or an Error naming the known ones. */
export function findService<T extends { name: string }>(services: readonly T[], name: string): T {
  const found = services.find((service) => service.name === name);
  if (found === undefined) {
    throw new Error(
      `service "${name}" is not in the topology; expected one of: ${services.map((service) => service.name).join(", ")}`,
    );
  }
  return found;
}

/** Throws unless `megabytes` lifts a service's memory cap (undefined) or is one (positive). */
export function checkMemoryCap(service: string, megabytes: number | undefined): void {
  if (megabytes !== undefined && !(megabytes > 0)) {
    throw new Error(`memory cap of "${service}" is ${megabytes} MB, expected a positive number`);
  }
}

/** The services that run `component` (by role, not name: a target's play them under its own). */
export function servicesRunning<T extends { readonly component: string }>(
  services: readonly T[],
  component: ServiceHandle["component"],
): T[] {
  return services.filter((service) => service.component === component);
}

/** The first service that runs `component`; throws when none does. */
export function serviceRunning<T extends { readonly component: string }>(
  services: readonly T[],
  component: ServiceHandle["component"],
): T {
  const service = services.find((candidate) => candidate.component === component);
  if (service === undefined) throw new Error(`the topology has no ${component} service`);
  return service;
}
