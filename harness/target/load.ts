// Loads and checks a target file (docs/targets.md): the schema first (schema.ts), then what a
// schema cannot say: names unique across services and egresses, every link's ends, ports and
// probes that exist, the ingress and each egress against their kind's schema, routes and
// declarations naming egresses that exist, templates that exist and use only placeholders that
// will have a value. Every problem is listed with its path and value (ExperimentError).

import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import type { z } from "zod";
import { ExperimentError, formatPath, parseWithSchema } from "../experiment/definition.ts";
import type { Experiment } from "../experiment/definition.ts";
import {
  experimentFaults,
  loadExperiment,
  namesProblems,
  readDefinition,
  type PlacedFault,
} from "../experiment/load.ts";
import { abortProblems } from "../experiment/abort.ts";
import { memoryCapMb } from "../experiment/memory-cap.ts";
import { ingressSchema } from "./ingress/index.ts";
import { egressSchema } from "./recorders/launch.ts";
import {
  targetSchema,
  WORKLOAD_ENDPOINT,
  type Route,
  type ServiceComponent,
  type TargetFile,
  type TargetService,
} from "./schema.ts";
import { placeholdersOf } from "./template.ts";

export type IngressSpec = z.output<typeof ingressSchema>;
export type EgressSpec = z.output<typeof egressSchema>;

/** A target file with every link named (`<from>-><to>` unless it names itself). */
export type NamedTarget = Omit<TargetFile, "links"> & {
  links: Array<TargetFile["links"][number] & { name: string }>;
};

export interface LoadedTarget {
  /** The target file, absolute. */
  file: string;
  spec: NamedTarget;
  ingress: { link: string; spec: IngressSpec };
  egresses: Array<{ name: string; spec: EgressSpec }>;
  /** Template text by the path written in the target file (relative to it). */
  templates: Map<string, string>;
}

/** `<service>:<port>` or a bare name. */
export function splitEndpoint(endpoint: string): { node: string; port: string | undefined } {
  const [node, port] = endpoint.split(":");
  return { node: node!, port };
}

function portsOf(service: TargetService): string[] {
  return service.external === undefined ? service.ports : Object.keys(service.external.ports);
}

/** The egresses a route names: one, or the several its pairs are dealt over. */
export function routeEgresses(route: Route): string[] {
  return typeof route.egress === "string" ? [route.egress] : route.egress;
}

/**
 * The service playing a reference pipeline role, if one does (docs/targets.md, "The reference
 * pipeline as a target"); the cross-check allows at most one per role but `sink`.
 */
export function servicePlaying(
  target: LoadedTarget,
  component: ServiceComponent,
): TargetService | undefined {
  return target.spec.services.find((service) => service.component === component);
}

/** The roles the reference runner's evidence reads (harness/experiment/observer.ts). */
const REFERENCE_EVIDENCE_ROLES: readonly ServiceComponent[] = ["forwarder", "buffer"];

/**
 * Whether services play the reference pipeline's forwarder and buffer: then the run reads the
 * reference runner's evidence (the buffer's /stats, every service's /drops, the config service's
 * published configs) instead of judging from outside alone.
 */
export function playsReferencePipeline(target: LoadedTarget): boolean {
  return REFERENCE_EVIDENCE_ROLES.every((role) => servicePlaying(target, role) !== undefined);
}

/** The placeholders whose values come from the experiment the target runs (run.ts). */
export const RUN_PLACEHOLDERS = ["jobs.json", "datasets.json", "limits.json"] as const;
export type RunPlaceholder = (typeof RUN_PLACEHOLDERS)[number];

/** The keys a template of `service` may use under the variables of every variant. */
function knownPlaceholders(spec: NamedTarget, service: TargetService): Set<string> {
  // The run's own values (topology.ts): the harness's Node and the target file's directory, to
  // run a script shipped beside the target; the routes' jobs, the workload's datasets and the
  // experiment's reference pipeline limits, as JSON, for a config service that needs them.
  const keys = new Set(["host", "dataDir", "configDir", "service", "node", "targetDir"]);
  for (const key of RUN_PLACEHOLDERS) keys.add(key);
  for (const port of portsOf(service)) keys.add(`port.${port}`);
  for (const link of spec.links)
    for (const part of ["host", "port", "address"]) keys.add(`link.${link.name}.${part}`);
  for (const file of service.files) keys.add(`file.${file.path}`);
  for (const egress of spec.egresses)
    if (egress.kind === "file") keys.add(`egress.${egress.name}.path`);
  return keys;
}

function variableNames(spec: NamedTarget): Set<string> {
  return new Set([
    ...Object.keys(spec.variables),
    ...Object.values(spec.variants).flatMap((variables) => Object.keys(variables)),
  ]);
}

/** Services playing reference pipeline roles: an HTTP port each, one per role but sinks. */
function checkRoles(spec: NamedTarget): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  spec.services.forEach((service, index) => {
    const role = service.component;
    if (role === undefined) return;
    if (service.process === undefined)
      problems.push(
        `services[${index}].component: "${role}": expected a process service; an external one plays no role`,
      );
    else if (portsOf(service).length === 0)
      problems.push(
        `services[${index}].component: "${role}": expected a port, the first of which serves its HTTP API`,
      );
    const other = seen.get(role);
    if (other !== undefined && role !== "sink")
      problems.push(
        `services[${index}].component: "${role}": already played by ${other}; expected one ${role}`,
      );
    seen.set(role, service.name);
  });
  const evidence = REFERENCE_EVIDENCE_ROLES.filter((role) => seen.has(role));
  if (evidence.length === 0) return problems;
  if (evidence.length < REFERENCE_EVIDENCE_ROLES.length)
    problems.push(
      `services: plays ${evidence.join(", ")} of the reference pipeline; expected all of ${REFERENCE_EVIDENCE_ROLES.join(", ")} (the reference runner's evidence reads both), or neither`,
    );
  // The reference runner's evidence reads every service's /healthz and /drops.
  spec.services.forEach((service, index) => {
    if (service.component === undefined)
      problems.push(
        `services[${index}].component: missing: a target playing the reference pipeline's ${evidence.join(" and ")} needs a role for every service (${REFERENCE_EVIDENCE_ROLES.join(", ")}, config, pusher or sink)`,
      );
  });
  return problems;
}

/** Problems of a schema-valid target, each `path: value: what was expected`. */
function crossCheck(spec: NamedTarget, dir: string, templates: Map<string, string>): string[] {
  const problems: string[] = [];
  const services = new Map(spec.services.map((service) => [service.name, service]));
  const egressNames = spec.egresses.map((egress) => egress.name);
  const nodes = [...spec.services.map((service) => service.name), ...egressNames];
  nodes.forEach((name, index) => {
    const where =
      index < spec.services.length
        ? `services[${index}].name`
        : `egresses[${index - spec.services.length}].name`;
    if (name === WORKLOAD_ENDPOINT)
      problems.push(`${where}: "${name}": reserved for the workload's end of the ingress link`);
    else if (nodes.indexOf(name) !== index)
      problems.push(`${where}: "${name}": already the name of another service or egress`);
  });
  const linkNames = spec.links.map((link) => link.name);
  spec.links.forEach((link, index) => {
    if (linkNames.indexOf(link.name) !== index)
      problems.push(`links[${index}].name: "${link.name}": already the name of another link`);
    if (link.from !== WORKLOAD_ENDPOINT && !nodes.includes(link.from))
      problems.push(
        `links[${index}].from: "${link.from}": expected workload or one of: ${nodes.join(", ")}`,
      );
    const { node, port } = splitEndpoint(link.to);
    const service = services.get(node);
    if (service !== undefined) {
      if (port === undefined || !portsOf(service).includes(port))
        problems.push(
          `links[${index}].to: "${link.to}": expected ${node}:<port>, a port of ${node}: ${portsOf(service).join(", ") || "(it has none)"}`,
        );
    } else if (egressNames.includes(node) && port === undefined) {
      const egress = spec.egresses.find((candidate) => candidate.name === node)!;
      if (egress.kind !== "syslog" && egress.kind !== "http")
        problems.push(
          `links[${index}].to: "${link.to}": a ${egress.kind} egress listens on nothing; only syslog and http egresses receive connections`,
        );
    } else {
      problems.push(
        `links[${index}].to: "${link.to}": expected <service>:<port> or a syslog/http egress; services: ${[...services.keys()].join(", ")}; egresses: ${egressNames.join(", ")}`,
      );
    }
  });
  const ingressLink = spec.links.find((link) => link.name === spec.ingress.link);
  if (ingressLink === undefined)
    problems.push(
      `ingress.link: "${spec.ingress.link}": expected one of the links: ${linkNames.join(", ") || "(none)"}`,
    );
  else if (ingressLink.from !== WORKLOAD_ENDPOINT)
    problems.push(
      `ingress.link: "${spec.ingress.link}": expected a link from workload, this one is from ${ingressLink.from}`,
    );
  spec.services.forEach((service, index) => {
    const ports = portsOf(service);
    const ready = service.ready;
    const probePort =
      ready === undefined
        ? undefined
        : "tcp" in ready
          ? ready.tcp
          : "http" in ready
            ? ready.http.port
            : undefined;
    if (probePort !== undefined && !ports.includes(probePort))
      problems.push(
        `services[${index}].ready: "${probePort}": expected one of its ports: ${ports.join(", ") || "(none)"}`,
      );
    if (service.external === undefined && ready === undefined)
      problems.push(
        `services[${index}].ready: missing: expected { tcp: <port> }, { http: { port, path } } or { logLine: <regex> }`,
      );
    const known = knownPlaceholders(spec, service);
    const variables = variableNames(spec);
    const check = (text: string, where: string): void => {
      for (const key of placeholdersOf(text)) {
        if (known.has(key)) continue;
        if (key.startsWith("var.") && variables.has(key.slice(4))) continue;
        problems.push(`${where}: "{{spillway.${key}}}": not a placeholder this service has`);
      }
    };
    service.process?.command.forEach((argument, argumentIndex) =>
      check(argument, `services[${index}].process.command[${argumentIndex}]`),
    );
    service.container?.command?.forEach((argument, argumentIndex) =>
      check(argument, `services[${index}].container.command[${argumentIndex}]`),
    );
    const rendered = service.files.map((file) => file.path);
    for (const file of Object.keys(service.container?.files ?? {}))
      if (!rendered.includes(file))
        problems.push(
          `services[${index}].container.files: "${file}": expected the path of one of its files: ${rendered.join(", ") || "(it has none)"}`,
        );
    service.files.forEach((file, fileIndex) => {
      const text = templates.get(file.template);
      if (text === undefined)
        problems.push(
          `services[${index}].files[${fileIndex}].template: "${file.template}": no such file in ${dir}`,
        );
      else check(text, `services[${index}].files[${fileIndex}] (${file.template})`);
    });
  });
  spec.routes.forEach((route, index) => {
    for (const egress of routeEgresses(route))
      if (!egressNames.includes(egress))
        problems.push(
          `routes[${index}].egress: "${egress}": expected one of: ${egressNames.join(", ")}`,
        );
    if (route.match?.tenants !== undefined && route.match.jobTenants !== undefined)
      problems.push(
        `routes[${index}].match.jobTenants: true: expected either tenants or jobTenants, not both`,
      );
  });
  problems.push(...checkRoles(spec));
  spec.declared.forEach((declared, index) => {
    if ("egress" in declared) {
      if (!egressNames.includes(declared.egress))
        problems.push(
          `declared[${index}].egress: "${declared.egress}": expected one of: ${egressNames.join(", ")}`,
        );
      if (spec.routes.some((route) => route.egress === declared.egress))
        problems.push(
          `declared[${index}].egress: "${declared.egress}": also a route's egress; a dead-letter egress holds drops, not deliveries`,
        );
      return;
    }
    const service = services.get(declared.prometheus.service);
    if (service === undefined)
      problems.push(
        `declared[${index}].prometheus.service: "${declared.prometheus.service}": expected one of: ${[...services.keys()].join(", ")}`,
      );
    else if (!portsOf(service).includes(declared.prometheus.port))
      problems.push(
        `declared[${index}].prometheus.port: "${declared.prometheus.port}": expected one of its ports: ${portsOf(service).join(", ")}`,
      );
  });
  if (spec.defaultVariant !== undefined && !(spec.defaultVariant in spec.variants))
    problems.push(
      `defaultVariant: "${spec.defaultVariant}": expected one of the variants: ${Object.keys(spec.variants).join(", ") || "(none)"}`,
    );
  return problems;
}

/** Parses `input` with a kind's schema, returning problems prefixed with `where` instead. */
function parsePart<Schema extends z.ZodType>(
  schema: Schema,
  input: unknown,
  where: string,
  problems: string[],
): z.output<Schema> | undefined {
  const result = schema.safeParse(input, { reportInput: true });
  if (result.success) return result.data;
  for (const issue of result.error.issues) {
    const value = "input" in issue ? (JSON.stringify(issue.input) ?? "missing") : "invalid";
    const at = formatPath(issue.path);
    problems.push(`${where}${at === "(top level)" ? "" : `.${at}`}: ${value}: ${issue.message}`);
  }
  return undefined;
}

/** Validates a target definition read from `file`; throws ExperimentError listing problems. */
export function parseTarget(input: unknown, file: string): LoadedTarget {
  const where = path.relative(process.cwd(), file) || file;
  const parsed = parseWithSchema(targetSchema, input, where, "target");
  const spec: NamedTarget = {
    ...parsed,
    links: parsed.links.map((link) => ({
      ...link,
      name: link.name ?? `${link.from}->${splitEndpoint(link.to).node}`,
    })),
  };
  const dir = path.dirname(file);
  const templates = new Map<string, string>();
  for (const service of spec.services) {
    for (const { template } of service.files) {
      const templatePath = path.resolve(dir, template);
      if (existsSync(templatePath)) templates.set(template, readFileSync(templatePath, "utf8"));
    }
  }
  const problems = crossCheck(spec, dir, templates);
  const { link, ...ingressRest } = spec.ingress;
  const ingress = parsePart(ingressSchema, ingressRest, "ingress", problems);
  const egresses = spec.egresses.map((egress, index) => {
    const { name, ...rest } = egress;
    return { name, spec: parsePart(egressSchema, rest, `egresses[${index}]`, problems) };
  });
  if (problems.length > 0 || ingress === undefined)
    throw new ExperimentError(where, problems, "target");
  return {
    file,
    spec,
    ingress: { link, spec: ingress },
    egresses: egresses.map(({ name, spec: egress }) => ({ name, spec: egress! })),
    templates,
  };
}

/** Reads and validates the target file at `reference` (a path, relative to `base` if given). */
export async function loadTarget(reference: string, base = process.cwd()): Promise<LoadedTarget> {
  const file = path.resolve(base, reference);
  if (!existsSync(file))
    throw new ExperimentError(reference, ["(file): no such target file"], "target");
  return parseTarget(await readDefinition(file, "target"), file);
}

/** The variables of a variant over the target's defaults; throws naming the variants. */
export function variablesOf(target: LoadedTarget, variant: string | undefined) {
  const { variables, variants } = target.spec;
  if (variant === undefined) return { ...variables };
  const chosen = variants[variant];
  if (chosen === undefined)
    throw new Error(
      `target ${target.spec.name} has no variant "${variant}"; expected one of: ${Object.keys(variants).join(", ") || "(none)"}`,
    );
  return { ...variables, ...chosen };
}

/** The variant a run uses when none is named: the default one, else the first, else none. */
export function defaultVariant(target: LoadedTarget): string | undefined {
  return target.spec.defaultVariant ?? Object.keys(target.spec.variants)[0];
}

/** The sink faults answered by a recorder's /fault: only an http recorder answers pushes. */
const RECORDER_SINK_FAULTS = ["sink.slow", "sink.error", "sink.throttle"];

/** Process faults on an external service: Spillway did not start it and must not stop it. */
function externalProcessFaultProblems(
  faults: readonly PlacedFault[],
  target: LoadedTarget,
): string[] {
  const external = target.spec.services
    .filter((service) => service.external !== undefined)
    .map((service) => service.name);
  return faults.flatMap(({ fault, where }) => {
    const { kind, service } = fault as { kind: string; service?: unknown };
    if (!kind.startsWith("process.") || typeof service !== "string" || !external.includes(service))
      return [];
    return [
      `${where}.service: "${service}": ${kind} is refused on an external service (Spillway did not start it); network faults on its links apply`,
    ];
  });
}

/** Sink faults (but sink.down, which takes links down) must name an http egress. */
function sinkFaultProblems(faults: readonly PlacedFault[], target: LoadedTarget): string[] {
  const http = target.egresses.filter((egress) => egress.spec.kind === "http").map((e) => e.name);
  return faults.flatMap(({ fault, where }) => {
    const { kind, sink } = fault as { kind: string; sink?: unknown };
    if (!RECORDER_SINK_FAULTS.includes(kind) || typeof sink !== "string" || http.includes(sink))
      return [];
    return [
      `${where}.sink: "${sink}": ${kind} acts on an http egress's answers; expected one of: ${http.join(", ") || "(this target has none)"}`,
    ];
  });
}

/** A service's memory cap on a target (harness/experiment/memory-cap.ts): bounds from its file. */
export function targetMemoryCapMb(
  experiment: Experiment,
  target: LoadedTarget,
  service: string,
): number | undefined {
  return memoryCapMb(experiment, service, {
    bufferService: servicePlaying(target, "buffer")?.name ?? null,
    memoryMbMax: target.spec.services.find((entry) => entry.name === service)?.memoryMbMax,
  });
}

/** Checks an experiment's faults, caps and expectations against a target's names. */
export function checkExperimentOnTarget(
  experiment: Experiment,
  target: LoadedTarget,
  where: string,
): Experiment {
  const services = new Set([
    ...target.spec.services.map((service) => service.name),
    ...target.egresses.map((egress) => egress.name),
  ]);
  const links = new Set(target.spec.links.map((link) => link.name));
  const variants = Object.keys(target.spec.variants);
  const expectable = variants.length > 0 ? variants : [target.spec.name];
  const faults = experimentFaults(experiment);
  // Config faults act on the service playing the config service, where the target has one.
  const configFaults =
    servicePlaying(target, "config") === undefined
      ? faults.filter(({ fault }) => fault.kind.startsWith("config."))
      : [];
  const problems = [
    ...configFaults.map(
      ({ fault, where: at }) =>
        `${at}.kind: "${fault.kind}": config faults act on the reference pipeline's config service; a target has none (docs/targets.md)`,
    ),
    ...namesProblems(experiment, faults, services, links),
    ...abortProblems(experiment.abort, services, {
      silentLoss: playsReferencePipeline(target)
        ? null
        : 'a target\'s deliveries and declared drops are settled only after the run (docs/targets.md, "Abort conditions"); expected buffer, unhealthy or memory',
      buffer:
        playsReferencePipeline(target) || target.spec.bounds.backlogEventsMax !== undefined
          ? null
          : `target ${target.spec.name} declares no backlog bound; expected bounds.backlogEventsMax in the target file`,
      memoryCap: (service) => targetMemoryCapMb(experiment, target, service) !== undefined,
    }),
    ...sinkFaultProblems(faults, target),
    ...externalProcessFaultProblems(faults, target),
    ...Object.keys(experiment.expect ?? {})
      .filter((key) => !expectable.includes(key))
      .map(
        (key) =>
          `expect.${key}: expected ${variants.length > 0 ? "a variant" : "the target's name"} of ${target.spec.name}: ${expectable.join(", ")}`,
      ),
  ];
  if (problems.length > 0) throw new ExperimentError(where, problems);
  return experiment;
}

/**
 * An experiment and the target it runs on: `--target` (relative to the working directory)
 * over the experiment's own `target:` (relative to its file); none for the reference pipeline.
 */
export async function loadExperimentAndTarget(
  reference: string,
  targetOverride?: string,
): Promise<{ experiment: Experiment; target: LoadedTarget | null }> {
  return withItsTarget(await loadExperiment(reference, targetOverride), reference);
}

/**
 * A loaded experiment with the target it names, checked against it (`where` names it in the
 * problems); `loaded` is taken for that target when it is the same file.
 */
export async function withItsTarget(
  experiment: Experiment,
  where: string,
  loaded?: LoadedTarget,
): Promise<{ experiment: Experiment; target: LoadedTarget | null }> {
  if (experiment.target === undefined) return { experiment, target: null };
  const target =
    loaded !== undefined && loaded.file === experiment.target
      ? loaded
      : await loadTarget(experiment.target);
  return { experiment: checkExperimentOnTarget(experiment, target, where), target };
}
