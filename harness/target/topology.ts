// Starting a target (docs/targets.md): allocate every port, open every link through the fault
// proxy, render the config templates with the addresses that gives, then start Spillway's
// recorders and the target's services, each after everything it connects to, and wait until
// each is ready. The result is a RunningTopology like the reference pipeline's, so that the
// fault families (docs/architecture.md §4) act on it by service and link name. Everything is
// released by stop(), also when the start fails half-way, on SIGINT/SIGTERM, and (the process
// groups and the run directory) by `spillway clean` after a harness killed with SIGKILL.

import { mkdirSync } from "node:fs";
import { rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Net } from "../../pipeline/core/seam.ts";
import { createRealNet, realClock } from "../../pipeline/host/real-seam.ts";
import { answersOk } from "../http/json-client.ts";
import { registerCleanup, ReleaseSteps } from "../runtime/cleanup.ts";
import { EventLog } from "../runtime/events.ts";
import { DEFAULT_PROCESS_LIMITS, ProcessService } from "../runtime/process/service-process.ts";
import { ServiceLog } from "../runtime/process/service-log.ts";
import { startWatchdog, type Watchdog } from "../runtime/process/watchdog.ts";
import { createRunDir, RUN_DIR_PREFIX } from "../runtime/run-dir.ts";
import { findService, type RunningTopology, type ServiceHandle } from "../runtime/runtime.ts";
import type { LinkSpec, Topology } from "../runtime/topology.ts";
import type { ToxiproxyLinks } from "../runtime/toxiproxy-links.ts";
import { recorderLaunch } from "./recorders/launch.ts";
import { ExternalService } from "./external-service.ts";
import { TargetProcessService } from "./service/process-service.ts";
import type { Probe } from "./service/readiness.ts";
import { splitEndpoint, variablesOf, type EgressSpec, type LoadedTarget } from "./load.ts";
import { reservePorts, type PortReservation } from "./ports.ts";
import { WORKLOAD_ENDPOINT, type Readiness, type TargetService } from "./schema.ts";
import { renderTemplate } from "./template.ts";

const LOOPBACK = "127.0.0.1";

export interface Address {
  host: string;
  port: number;
}

/** A started target: the services (the target's and Spillway's recorders) and their links. */
export interface StartedTarget extends RunningTopology {
  readonly target: LoadedTarget;
  readonly variant: string | undefined;
  readonly runDir: string;
  /** Where the workload sends: the ingress link's proxy. */
  readonly ingressAddress: Address;
  /** The recorder of each egress, by egress name. */
  readonly recorders: ReadonlyMap<string, ServiceHandle>;
  /** The target's own services (not the recorders). */
  readonly targetServices: readonly ServiceHandle[];
  /** Whether a service answers its health probe now (from outside: no /stats needed). */
  healthy(service: ServiceHandle): Promise<boolean>;
  /** `http://host:port` of a service's named port, reached directly (not through a link). */
  portUrl(service: string, port: string): string;
}

export interface StartTargetOptions {
  links: ToxiproxyLinks;
  variant?: string;
  /** Where run directories are made (default the OS temp dir). */
  tempRoot?: string;
  keepRunDir?: boolean;
  /** The placeholders whose values the experiment gives (load.ts, RUN_PLACEHOLDERS), by key. */
  runValues?: Readonly<Record<string, string>>;
}

/** Nodes in start order: everything a node connects to (its links' `to`) before it. */
function startOrder(target: LoadedTarget): string[] {
  const nodes = [
    ...target.spec.services.map((service) => service.name),
    ...target.egresses.map((egress) => egress.name),
  ];
  const after = new Map(nodes.map((node) => [node, [] as string[]]));
  for (const link of target.spec.links) {
    if (link.from === WORKLOAD_ENDPOINT) continue;
    after.get(link.from)!.push(splitEndpoint(link.to).node);
  }
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (node: string): void => {
    if (order.includes(node)) return;
    if (visiting.has(node)) {
      // A cycle (a → b → a): start in declaration order; each waits only for its own readiness.
      return;
    }
    visiting.add(node);
    for (const next of after.get(node) ?? []) visit(next);
    visiting.delete(node);
    order.push(node);
  };
  for (const node of nodes) visit(node);
  return order;
}

function addressOf(url: string): Address {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port) };
}

/** A service's readiness probe, on the ports allocated for it. */
function probeOf(ready: Readiness, portOf: (name: string) => number): Probe {
  if ("tcp" in ready) return { tcp: { host: LOOPBACK, port: portOf(ready.tcp) } };
  if ("http" in ready)
    return {
      http: {
        url: `http://${LOOPBACK}:${portOf(ready.http.port)}${ready.http.path}`,
        status: ready.http.status,
      },
    };
  return { logLine: new RegExp(ready.logLine) };
}

class RunningTarget implements StartedTarget {
  readonly target: LoadedTarget;
  readonly variant: string | undefined;
  readonly runDir: string;
  readonly clock = realClock;
  private readonly realNet = createRealNet();
  readonly net: Net = this.realNet;
  readonly topology: Topology;
  readonly recorders = new Map<string, ServiceHandle>();
  readonly targetServices: ServiceHandle[] = [];
  ingressAddress: Address = { host: LOOPBACK, port: 0 };
  private ports = new Map<string, number>();
  private reservation: PortReservation | undefined;
  private readonly started: ServiceHandle[] = [];
  private readonly eventLog = new EventLog();
  private readonly logs: ServiceLog[] = [];
  private readonly links: ToxiproxyLinks;
  private readonly watchdog: Watchdog;
  private readonly keepRunDir: boolean;
  private readonly runValues: Readonly<Record<string, string>>;
  private readonly unregister: () => void;
  private stopping: Promise<void> | undefined;

  constructor(
    target: LoadedTarget,
    variant: string | undefined,
    runDir: string,
    options: StartTargetOptions,
  ) {
    this.target = target;
    this.variant = variant;
    this.runDir = runDir;
    this.links = options.links;
    this.keepRunDir = options.keepRunDir ?? false;
    this.runValues = options.runValues ?? {};
    this.watchdog = startWatchdog(process.execPath);
    const links: LinkSpec[] = target.spec.links.map((link) => ({
      name: link.name,
      from: link.from,
      to: splitEndpoint(link.to).node,
    }));
    // The reference topology's form, so that faults find services and the links into them;
    // only the recorders are pipeline components (sinks), which the sink faults act on.
    this.topology = {
      profile: "hardened",
      services: target.egresses.map((egress) => ({ name: egress.name, component: "sink" })),
      links,
    };
    this.unregister = registerCleanup({
      label: `target ${target.spec.name} in ${runDir}`,
      run: () => this.stop(),
      runAtExit: () => this.stopNow(),
    });
  }

  get services(): readonly ServiceHandle[] {
    return this.started;
  }

  service(name: string): ServiceHandle {
    return findService(this.started, name);
  }

  events() {
    return this.eventLog.list();
  }

  onEvent(listener: Parameters<EventLog["subscribe"]>[0]): () => void {
    return this.eventLog.subscribe(listener);
  }

  async healthy(service: ServiceHandle): Promise<boolean> {
    if (service.state() !== "running") return false;
    if ("health" in service && typeof service.health === "function")
      return (service.health as () => Promise<boolean>)().catch(() => false);
    return answersOk(this.net, `${service.url()}/healthz`, 1_000);
  }

  portUrl(service: string, port: string): string {
    const number = this.ports.get(`${service}:${port}`);
    if (number === undefined) throw new Error(`service "${service}" has no port "${port}"`);
    const host =
      this.target.spec.services.find((entry) => entry.name === service)?.external?.host ?? LOOPBACK;
    return `http://${host}:${number}`;
  }

  newLog(name: string): ServiceLog {
    const log = new ServiceLog(path.join(this.runDir, "logs", `${name}.log`), {
      lines: DEFAULT_PROCESS_LIMITS.logLines,
      lineChars: DEFAULT_PROCESS_LIMITS.logLineChars,
    });
    this.logs.push(log);
    return log;
  }

  /** Ports, links and rendered files, then every node started in order. */
  async startAll(): Promise<void> {
    const { spec } = this.target;
    const variables = variablesOf(this.target, this.variant);
    // Ports: every named port of every service Spillway starts, and every listening recorder's.
    const wanted: Array<{ key: string }> = [];
    for (const service of spec.services)
      if (service.external === undefined)
        for (const port of service.ports) wanted.push({ key: `${service.name}:${port}` });
    for (const egress of this.target.egresses)
      if (egress.spec.kind === "syslog" || egress.spec.kind === "http")
        wanted.push({ key: egress.name });
    // Held until each node starts, so that the proxies opened below cannot be given one of them.
    const reservation = await reservePorts(wanted.length);
    this.reservation = reservation;
    const ports = new Map(wanted.map((entry, index) => [entry.key, reservation.ports[index]!]));
    for (const service of spec.services)
      for (const [port, number] of Object.entries(service.external?.ports ?? {}))
        ports.set(`${service.name}:${port}`, number);
    this.ports = ports;

    // Links: each a proxy in front of the address it leads to.
    const linkAddresses = new Map<string, Address>();
    for (const link of spec.links) {
      const { node } = splitEndpoint(link.to);
      const external = spec.services.find((service) => service.name === node)?.external;
      const upstreamPort = ports.get(link.to);
      if (upstreamPort === undefined) throw new Error(`link ${link.name}: no port for ${link.to}`);
      const host = external?.host ?? LOOPBACK;
      const opened = await this.links.open({
        name: link.name,
        upstream: `http://${host}:${upstreamPort}`,
      });
      linkAddresses.set(link.name, addressOf(opened.url));
    }
    this.ingressAddress = linkAddresses.get(this.target.ingress.link)!;

    const common = new Map<string, string>([
      ["host", LOOPBACK],
      ["node", process.execPath],
      ["targetDir", path.dirname(this.target.file)],
      ...Object.entries(this.runValues),
    ]);
    for (const [name, address] of linkAddresses) {
      common.set(`link.${name}.host`, address.host);
      common.set(`link.${name}.port`, String(address.port));
      common.set(`link.${name}.address`, `${address.host}:${address.port}`);
    }
    for (const [name, value] of Object.entries(variables)) common.set(`var.${name}`, value);

    const handles = new Map<string, ServiceHandle & { start(): Promise<void> }>();
    for (const egress of this.target.egresses)
      handles.set(egress.name, this.recorderFor(egress.name, egress.spec, ports, linkAddresses));
    for (const service of spec.services)
      handles.set(service.name, await this.serviceFor(service, ports, common));

    for (const node of startOrder(this.target)) {
      const handle = handles.get(node)!;
      this.started.push(handle);
      for (const [key, port] of ports)
        if (key === node || key.startsWith(`${node}:`)) await reservation.release(port);
      if (this.recorders.has(node) || !(handle instanceof ExternalService)) await handle.start();
    }
  }

  private recorderFor(
    name: string,
    egress: EgressSpec,
    ports: Map<string, number>,
    linkAddresses: Map<string, Address>,
  ): ProcessService {
    const dataDir = path.join(this.runDir, "data", name);
    mkdirSync(dataDir, { recursive: true });
    const reads = this.target.spec.links.find((link) => link.from === name);
    const source = reads === undefined ? undefined : linkAddresses.get(reads.name);
    const launch = recorderLaunch(
      {
        ...egress,
        destination: "all",
        ...(ports.has(name) ? { listenPort: ports.get(name)! } : {}),
        ...(source === undefined ? {} : { redis: `${source.host}:${source.port}` }),
        ...(egress.kind === "file" ? { path: this.egressFile(name, egress.path) } : {}),
      },
      { dataDir },
    );
    const recorder = new ProcessService(
      { name, component: "sink" },
      {
        launch,
        log: this.newLog(name),
        events: this.eventLog,
        watchdog: this.watchdog,
        limits: DEFAULT_PROCESS_LIMITS,
      },
    );
    this.recorders.set(name, recorder);
    return recorder;
  }

  /** Where a file egress's file is: under the run directory, as the templates see it. */
  egressFile(name: string, file: string): string {
    mkdirSync(path.join(this.runDir, "egress", name), { recursive: true });
    return path.join(this.runDir, "egress", name, file);
  }

  private async serviceFor(
    service: TargetService,
    ports: Map<string, number>,
    common: Map<string, string>,
  ): Promise<ServiceHandle & { start(): Promise<void> }> {
    if (service.external !== undefined) {
      const handle = new ExternalService({
        name: service.name,
        host: service.external.host,
        ports: service.external.ports,
      });
      this.targetServices.push(handle);
      return handle;
    }
    const launch = service.process;
    const dataDir = path.join(this.runDir, "data", service.name);
    const configDir = path.join(this.runDir, "config", service.name);
    mkdirSync(dataDir, { recursive: true });
    mkdirSync(configDir, { recursive: true });
    const values = new Map(common);
    values.set("dataDir", dataDir);
    values.set("configDir", configDir);
    values.set("service", service.name);
    for (const port of service.ports)
      values.set(`port.${port}`, String(ports.get(`${service.name}:${port}`)!));
    for (const egress of this.target.egresses)
      if (egress.spec.kind === "file")
        values.set(`egress.${egress.name}.path`, this.egressFile(egress.name, egress.spec.path));
    for (const file of service.files)
      values.set(`file.${file.path}`, path.join(configDir, file.path));
    for (const file of service.files) {
      const text = renderTemplate(
        this.target.templates.get(file.template)!,
        values,
        `${path.relative(process.cwd(), path.resolve(path.dirname(this.target.file), file.template))}`,
      );
      const destination = path.join(configDir, file.path);
      mkdirSync(path.dirname(destination), { recursive: true });
      await writeFile(destination, text);
    }
    const ready = service.ready!;
    const portOf = (name: string): number => ports.get(`${service.name}:${name}`)!;
    const firstPort = service.ports[0];
    const readiness = probeOf(ready, portOf);
    // A service playing a reference pipeline role serves its HTTP API on its first port.
    const scheme = service.component === undefined ? "tcp" : "http";
    const address = (kind: string): string =>
      firstPort === undefined
        ? `${kind}://${service.name}`
        : `${scheme}://${LOOPBACK}:${portOf(firstPort)}`;
    if (launch === undefined) {
      const paths = { dataDir, configDir };
      const handle = await this.containerFor(
        service,
        values,
        paths,
        readiness,
        address("container"),
      );
      this.targetServices.push(handle);
      return handle;
    }
    const command = launch.command.map((argument, index) =>
      renderTemplate(argument, values, `${service.name}.process.command[${index}]`),
    );
    const handle = new TargetProcessService({
      name: service.name,
      command,
      ...(launch.env === undefined ? {} : { env: launch.env }),
      dataDir,
      log: this.newLog(service.name),
      events: this.eventLog,
      watchdog: this.watchdog,
      runDir: this.runDir,
      readiness,
      readyTimeoutMs: service.readyTimeout,
      ...(launch.package === undefined ? {} : { packageHint: launch.package }),
      // A service playing a reference pipeline role serves its HTTP API on its first port, where
      // config faults and the reference runner's evidence reach it (docs/targets.md, "The
      // reference pipeline as a target").
      ...(service.component === undefined ? {} : { component: service.component }),
      address: address("process"),
    });
    this.targetServices.push(handle);
    return handle;
  }

  /** A container service (docs/targets.md, "Container services"), its paths the same inside. */
  private async containerFor(
    service: TargetService,
    values: Map<string, string>,
    paths: { dataDir: string; configDir: string },
    readiness: Probe,
    address: string,
  ) {
    const container = service.container!;
    // Loaded here: testcontainers takes most of a second to load, which a target of processes
    // need not pay.
    const { TargetContainerService } = await import("./service/container-service.ts");
    return new TargetContainerService({
      name: service.name,
      image: container.image,
      ...(container.command === undefined
        ? {}
        : {
            command: container.command.map((argument, index) =>
              renderTemplate(argument, values, `${service.name}.container.command[${index}]`),
            ),
          }),
      ...(container.env === undefined ? {} : { env: container.env }),
      ...(container.user === undefined ? {} : { user: container.user }),
      ...paths,
      readiness,
      address,
      sharedDirs: this.target.egresses.flatMap((egress) =>
        egress.spec.kind === "file"
          ? [path.dirname(this.egressFile(egress.name, egress.spec.path))]
          : [],
      ),
      fileMounts: Object.fromEntries(
        Object.entries(container.files ?? {}).map(([file, inside]) => [
          path.join(paths.configDir, file),
          inside,
        ]),
      ),
      // The run directory's own suffix: the containers and the directory of a run go together.
      runId: path.basename(this.runDir).slice(RUN_DIR_PREFIX.length),
      log: this.newLog(service.name),
      events: this.eventLog,
      readyTimeoutMs: service.readyTimeout,
    });
  }

  stop(): Promise<void> {
    this.stopping ??= this.release();
    return this.stopping;
  }

  private async release(): Promise<void> {
    const steps = new ReleaseSteps();
    const attempt = (step: () => Promise<unknown>) => steps.attempt(step);
    await attempt(async () => this.reservation?.releaseAll());
    // The target's services first (newest first), then the recorders, so that what is in
    // flight at the end is not refused by a recorder already gone.
    for (const service of [...this.started].reverse()) {
      if (service instanceof ExternalService) continue;
      // A container is removed as well as stopped (container-service.ts).
      if ("release" in service && typeof service.release === "function")
        await attempt(() => (service.release as () => Promise<void>)());
      else await attempt(() => service.kill("SIGTERM"));
    }
    await attempt(() => this.links.close());
    this.realNet.close();
    await attempt(() => this.watchdog.close());
    await Promise.all(this.logs.map((log) => attempt(() => log.close())));
    if (!this.keepRunDir) await attempt(() => rm(this.runDir, { recursive: true, force: true }));
    this.unregister();
    steps.throwIfAny(`stopping target ${this.target.spec.name} failed`);
  }

  private stopNow(): void {
    this.realNet.close();
    for (const service of this.started)
      if ("killNow" in service && typeof service.killNow === "function") service.killNow();
  }
}

/** Starts `target` (its `variant`); on failure, whatever started is stopped before it throws. */
export async function startTarget(
  target: LoadedTarget,
  options: StartTargetOptions,
): Promise<StartedTarget> {
  const runDir = await createRunDir({ root: options.tempRoot });
  const running = new RunningTarget(target, options.variant, runDir, options);
  try {
    await running.startAll();
  } catch (error) {
    await running.stop().catch(() => undefined);
    throw error;
  }
  return running;
}
