// What a runtime starts: named services, each an instance of a pipeline component, and the
// links between them. Every (service → peer) pair is a link named `<service>->peer`, so that a
// fault proxy can sit on each one. Validated once, here, at the edge.

import { z } from "zod";
import { FLAW_NAMES, PROFILE_NAMES, type Component } from "../../pipeline/core/flaws.ts";
import { resolveLimits } from "../../pipeline/core/limits.ts";

/** The component kinds a service can run; `satisfies` keeps the list in step with the type. */
export const COMPONENT_KINDS = [
  "config",
  "forwarder",
  "buffer",
  "pusher",
  "sink",
] as const satisfies readonly Component[];

const SERVICE_NAME = /^[a-z][a-z0-9-]{0,62}$/;

const limitsSchema = z.record(z.string(), z.unknown()).superRefine((limits, context) => {
  try {
    resolveLimits(limits);
  } catch (error) {
    context.addIssue({ code: "custom", message: (error as Error).message });
  }
});

const serviceSchema = z
  .object({
    name: z.string().regex(SERVICE_NAME, "expected a service name: a-z, 0-9 and -, starting a-z"),
    component: z.enum(COMPONENT_KINDS),
    peers: z.array(z.string()).optional(),
    profile: z.enum(PROFILE_NAMES).optional(),
    flaws: z.array(z.enum(FLAW_NAMES)).optional(),
    limits: limitsSchema.optional(),
    settings: z.record(z.string(), z.unknown()).optional(),
    memoryCapMb: z.number().positive().optional(),
  })
  .strict();

const topologySchema = z
  .object({
    profile: z.enum(PROFILE_NAMES).default("hardened"),
    flaws: z.array(z.enum(FLAW_NAMES)).optional(),
    services: z.array(serviceSchema).min(1, "expected at least one service"),
  })
  .strict();

/** A topology as written by a user (defaults optional). */
export type TopologySpec = z.input<typeof topologySchema>;
export type ServiceSpec = z.output<typeof serviceSchema>;

/** A link from a service to one of its peers, e.g. `forwarder->buffer`. */
export interface LinkSpec {
  name: string;
  from: string;
  to: string;
}

/** A validated topology: services in start order (every peer before the services calling it). */
export interface Topology {
  /** Default profile of every service that names none. */
  profile: z.output<typeof topologySchema>["profile"];
  /** Default flaws of every service that names none; absent means the profile's flaws. */
  flaws?: ServiceSpec["flaws"];
  services: ServiceSpec[];
  links: LinkSpec[];
}

export interface TopologyIssue {
  path: string;
  message: string;
}

export class TopologyError extends Error {
  readonly issues: readonly TopologyIssue[];
  constructor(issues: readonly TopologyIssue[]) {
    super(
      `invalid topology:\n${issues.map((issue) => `  ${issue.path}: ${issue.message}`).join("\n")}`,
    );
    this.name = "TopologyError";
    this.issues = issues;
  }
}

function pathText(path: readonly PropertyKey[]): string {
  let text = "topology";
  for (const key of path) text += typeof key === "number" ? `[${key}]` : `.${String(key)}`;
  return text;
}

function describeInput(input: unknown): string {
  if (input === undefined) return "";
  const text = JSON.stringify(input);
  return text.length > 80 ? ` (got ${text.slice(0, 77)}...)` : ` (got ${text})`;
}

/** Unknown peers and duplicate names, with the path of the offending value. */
function referenceIssues(services: readonly ServiceSpec[]): TopologyIssue[] {
  const issues: TopologyIssue[] = [];
  const names = services.map((service) => service.name);
  services.forEach((service, index) => {
    if (names.indexOf(service.name) !== index) {
      issues.push({
        path: `topology.services[${index}].name`,
        message: `"${service.name}" is already the name of services[${names.indexOf(service.name)}]`,
      });
    }
    (service.peers ?? []).forEach((peer, peerIndex) => {
      if (!names.includes(peer)) {
        issues.push({
          path: `topology.services[${index}].peers[${peerIndex}]`,
          message: `"${peer}" is not a service; expected one of: ${names.join(", ")}`,
        });
      }
    });
  });
  return issues;
}

/**
 * Orders services so that every peer starts before the services calling it (depth-first,
 * stable in declaration order). A cycle is an issue naming the services on it.
 */
function startOrder(services: readonly ServiceSpec[]): ServiceSpec[] | TopologyIssue {
  const byName = new Map(services.map((service) => [service.name, service]));
  const done = new Set<string>();
  const onPath: string[] = [];
  const order: ServiceSpec[] = [];
  const visit = (service: ServiceSpec): TopologyIssue | undefined => {
    if (done.has(service.name)) return undefined;
    const seen = onPath.indexOf(service.name);
    if (seen >= 0) {
      const cycle = [...onPath.slice(seen), service.name].join(" -> ");
      return { path: "topology.services", message: `peers form a cycle: ${cycle}` };
    }
    onPath.push(service.name);
    for (const peer of service.peers ?? []) {
      const issue = visit(byName.get(peer)!);
      if (issue !== undefined) return issue;
    }
    onPath.pop();
    done.add(service.name);
    order.push(service);
    return undefined;
  };
  for (const service of services) {
    const issue = visit(service);
    if (issue !== undefined) return issue;
  }
  return order;
}

export function linkName(from: string, to: string): string {
  return `${from}->${to}`;
}

/** Validates a topology; throws a TopologyError listing every problem with its path and value. */
export function parseTopology(input: unknown): Topology {
  const parsed = topologySchema.safeParse(input, { reportInput: true });
  if (!parsed.success) {
    throw new TopologyError(
      parsed.error.issues.map((issue) => ({
        path: pathText(issue.path),
        // Custom issues and unknown keys already say what the value is.
        message: `${issue.message}${issue.code === "custom" || issue.code === "unrecognized_keys" ? "" : describeInput(issue.input)}`,
      })),
    );
  }
  const { profile, flaws, services } = parsed.data;
  const referenceProblems = referenceIssues(services);
  if (referenceProblems.length > 0) throw new TopologyError(referenceProblems);
  const ordered = startOrder(services);
  if (!Array.isArray(ordered)) throw new TopologyError([ordered]);
  const links = ordered.flatMap((service) =>
    (service.peers ?? []).map((peer) => ({
      name: linkName(service.name, peer),
      from: service.name,
      to: peer,
    })),
  );
  return { profile, ...(flaws === undefined ? {} : { flaws }), services: ordered, links };
}

/** The profile and flaws a service runs with, after the topology's defaults. */
export function effectiveProfile(
  topology: Topology,
  service: ServiceSpec,
): { profile: Topology["profile"]; flaws?: ServiceSpec["flaws"] } {
  const profile = service.profile ?? topology.profile;
  const flaws = service.flaws ?? (service.profile === undefined ? topology.flaws : undefined);
  return flaws === undefined ? { profile } : { profile, flaws };
}
