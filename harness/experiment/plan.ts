// The plan of a run (`spillway run --dry-run`, docs/architecture.md §6 "Game days"): what a run
// would start and do, built from the validated experiment and target alone, starting nothing.
// A plan is a list of sections, each its own kind with its own lines in the text, so that a new
// part of an experiment (abort conditions, say) is one more section kind and one formatter.

import { resolveFlaws, type Flaw } from "../../pipeline/core/flaws.ts";
import { resolveLimits } from "../../pipeline/core/limits.ts";
import { formatFaultParams } from "../faults/params.ts";
import { plural } from "../invariants/format.ts";
import { faultKind, faultTarget } from "../faults/registry.ts";
import { parseTopology } from "../runtime/topology.ts";
import { targetMemoryCapMb, type LoadedTarget } from "../target/load.ts";
import type { Readiness, TargetService } from "../target/schema.ts";
import type { Experiment, FaultStep, MethodStep } from "./definition.ts";
import { formatCondition } from "./abort.ts";
import { formatDuration } from "./duration.ts";
import { referenceMemoryCapMb } from "./memory-cap.ts";
import { methodOrder } from "./phases/method.ts";
import { referenceSpecOf } from "./phases/start.ts";
import { referenceTopology } from "./reference-topology.ts";
import { expectationsFor, needsProxies } from "./runner.ts";

/** One run the command would make: a profile (or a target's variant), with its flaws. */
export interface PlannedRun {
  name: string;
  /** The flaws in force (the reference pipeline), or null on a target. */
  flaws: string[] | null;
  /** Expected outcomes; an invariant not named is expected to hold. */
  expect: Record<string, "held" | "violated">;
  /** False when `--flaws` or `--matrix` replace the profile's flaws: every invariant must hold. */
  expectationsApply: boolean;
}

export interface PlannedService {
  name: string;
  kind: "process" | "container" | "external" | "simulated";
  /** The command line, image or address, as written (templates not rendered). */
  runs: string;
  /** The reference pipeline's role it plays. */
  role?: string;
  ready?: string;
  /** The memory cap its `memory` abort condition and the report read (memory-cap.ts). */
  memoryCapMb?: number;
}

export interface PlannedLink {
  name: string;
  from: string;
  to: string;
}

export interface PlannedFault {
  kind: string;
  /** What it acts on: services, links, a tenant, or its family's usual object. */
  target: string;
  params: Record<string, unknown>;
  note?: string;
}

export interface PlannedStep extends PlannedFault {
  /** Offset after the warm-up (the method's clock). */
  atMs: number;
  /** From the start of the workload: the warm-up plus the offset. */
  fromStartMs: number;
  /** When it heals, after the warm-up; null: in force until healAll after the method. */
  healAtMs: number | null;
}

export type PlanSection =
  | { kind: "runs"; on: string; runs: PlannedRun[] }
  | {
      kind: "timing";
      warmupMs: number;
      durationMs: number;
      drainTimeoutMs: number;
      drainQuietMs: number;
      recoveryBoundMs: number;
    }
  | { kind: "services"; services: PlannedService[] }
  | { kind: "links"; through: string | null; links: PlannedLink[] }
  | { kind: "ingress"; link: string; ingress: string; recorders: string[] }
  | { kind: "bounds"; bounds: Array<{ name: string; value: string }> }
  | { kind: "steady-state"; checks: string[] }
  | { kind: "method"; steps: PlannedStep[] }
  | { kind: "rollbacks"; rollbacks: PlannedFault[] }
  | { kind: "abort"; conditions: string[] }
  | { kind: "invariants"; invariants: string[]; runs: PlannedRun[] };

export interface Plan {
  experiment: string;
  description: string;
  sections: PlanSection[];
}

/** What runs the reference pipeline, as `--runtime` and its options say. */
export interface ReferenceRuntime {
  runtime: "process" | "sim" | "container";
  /** The container runtime's image, when one is named. */
  image?: string;
  toxiproxyUrl?: string;
}

/** What a fault acts on (faultTarget), else its family's usual object. */
function plannedTarget(fault: FaultStep): string {
  const named = faultTarget(fault);
  if (named !== null) return named;
  const { family } = faultKind(fault.kind);
  if (family === "config") return "the config service";
  if (family === "load") return "the workload";
  return "(none named)";
}

function plannedFault(fault: FaultStep, note?: string): PlannedFault {
  const { kind, ...params } = fault;
  return { kind, target: plannedTarget(fault), params, ...(note === undefined ? {} : { note }) };
}

/** One method step as planned: its times, target and heal. */
export function plannedStep(step: MethodStep, warmupMs: number): PlannedStep {
  return {
    ...plannedFault(step.fault, step.note),
    atMs: step.at,
    fromStartMs: warmupMs + step.at,
    healAtMs: step.for === undefined ? null : step.at + step.for,
  };
}

function commonSections(experiment: Experiment, runs: PlannedRun[]): PlanSection[] {
  const { steadyState } = experiment;
  return [
    {
      kind: "steady-state",
      checks: [
        ...(steadyState.healthy ? ["every service is healthy"] : []),
        `events are acknowledged within a probe of ${formatDuration(steadyState.deliveringWithin)}`,
        `holds within ${formatDuration(steadyState.timeout)}, before the method and after the rollbacks`,
        `after: at least ${Math.round(steadyState.acceptanceShareMin * 100)}% of the offered load accepted`,
      ],
    },
    {
      kind: "method",
      steps: methodOrder(experiment.method).map((step) => plannedStep(step, experiment.warmup)),
    },
    { kind: "rollbacks", rollbacks: experiment.rollbacks.map((fault) => plannedFault(fault)) },
    { kind: "abort", conditions: experiment.abort.map(formatCondition) },
    { kind: "invariants", invariants: experiment.invariants, runs },
  ];
}

function timing(experiment: Experiment): PlanSection {
  return {
    kind: "timing",
    warmupMs: experiment.warmup,
    durationMs: experiment.duration,
    drainTimeoutMs: experiment.drain.timeout,
    drainQuietMs: experiment.drain.quiet,
    recoveryBoundMs: experiment.recoveryBound,
  };
}

/** A run of the reference pipeline on `profile`, `flaws` replacing the profile's. */
export function referenceRun(
  experiment: Experiment,
  name: string,
  profile: string,
  flaws: Flaw[] | undefined,
): PlannedRun {
  return {
    name,
    flaws: resolveFlaws(profile, flaws ?? experiment.flaws).list(),
    expect: expectationsFor(experiment, { profile, ...(flaws === undefined ? {} : { flaws }) }),
    expectationsApply: flaws === undefined,
  };
}

/** A planned service's memory cap, where it has one. */
const capOf = (capMb: number | undefined): Pick<PlannedService, "memoryCapMb"> =>
  capMb === undefined ? {} : { memoryCapMb: capMb };

const kibibytes = (bytes: number): string => `${(bytes / 1024).toLocaleString("en-US")} KiB`;

const RUNS_AS: Record<ReferenceRuntime["runtime"], string> = {
  process: "child processes, each ready on /healthz before the next starts",
  sim: "the simulator: every service in this process, virtual time, the experiment's simulator scale",
  container: "containers, each ready on /healthz before the next starts",
};

/**
 * The plan of `experiment` on the reference pipeline, for each of `runs`. `experiment` is as the
 * runtime runs it (the simulator's scale applied on `sim`).
 */
export function referencePlan(
  experiment: Experiment,
  runs: PlannedRun[],
  on: ReferenceRuntime,
): Plan {
  // The services and links are the same on every profile; only their flaws differ.
  const topology = parseTopology(
    referenceTopology(referenceSpecOf(experiment, { profile: experiment.profile })),
  );
  const caps = experiment.topology.memoryCapMb ?? {};
  const services: PlannedService[] = topology.services.map((service) => ({
    name: service.name,
    kind: on.runtime === "sim" ? "simulated" : on.runtime === "container" ? "container" : "process",
    runs:
      on.runtime === "container"
        ? `${on.image ?? "the scratch image of `spillway images build`"} as the ${service.component}`
        : `node pipeline/host/main.ts as the ${service.component}`,
    role: service.component,
    ready: "GET /healthz",
    ...capOf(referenceMemoryCapMb(experiment, service.name)),
  }));
  const through = !needsProxies(experiment)
    ? null
    : on.runtime === "sim"
      ? "the simulator's fault links"
      : on.toxiproxyUrl !== undefined
        ? `the Toxiproxy at ${on.toxiproxyUrl}`
        : "the embedded fault proxy";
  const limits = resolveLimits(experiment.topology.limits ?? {});
  const unbounded = runs.some((run) => run.flaws?.includes("buffer.limitsUnconfigured"));
  return {
    experiment: experiment.name,
    description: experiment.description,
    sections: [
      { kind: "runs", on: RUNS_AS[on.runtime], runs },
      timing(experiment),
      { kind: "services", services },
      { kind: "links", through, links: topology.links },
      {
        kind: "bounds",
        bounds: [
          {
            name: "buffer bytes",
            value: `${kibibytes(limits.maxBufferBytes)} in all, ${kibibytes(limits.maxTenantBytes)} per tenant, ${limits.maxBuffers} buffers${unbounded ? " (not enforced where buffer.limitsUnconfigured is on)" : ""}`,
          },
          {
            name: "buffer memory",
            value: `${experiment.topology.maxBufferMemoryMb} MB (bounded-buffer)`,
          },
          ...Object.entries(caps).map(([service, megabytes]) => ({
            name: `${service} memory cap`,
            value: `${megabytes} MB (killed when over)`,
          })),
        ],
      },
      ...commonSections(experiment, runs),
    ],
  };
}

function describeReadiness(ready: Readiness | undefined): string | undefined {
  if (ready === undefined) return undefined;
  if ("tcp" in ready) return `TCP connect to port ${ready.tcp}`;
  if ("http" in ready)
    return `GET ${ready.http.path} on port ${ready.http.port} → ${ready.http.status}`;
  return `a log line matching /${ready.logLine}/`;
}

function targetService(service: TargetService, capMb: number | undefined): PlannedService {
  const common = {
    name: service.name,
    ...(service.component === undefined ? {} : { role: service.component }),
    ...(service.ready === undefined ? {} : { ready: describeReadiness(service.ready)! }),
    ...capOf(capMb),
  };
  if (service.process !== undefined)
    return { ...common, kind: "process", runs: service.process.command.join(" ") };
  if (service.container !== undefined)
    return {
      ...common,
      kind: "container",
      runs: [service.container.image, ...(service.container.command ?? [])].join(" "),
    };
  const { host, ports } = service.external!;
  const addresses = Object.entries(ports).map(([name, port]) => `${name} ${host}:${port}`);
  return { ...common, kind: "external", runs: addresses.join(", ") };
}

/** The plan of `experiment` on `target`, for each of its `variants` (or the target's name). */
export function targetPlan(
  experiment: Experiment,
  target: LoadedTarget,
  variants: readonly string[],
  toxiproxyUrl?: string,
): Plan {
  const runs = variants.map((name) => ({
    name,
    flaws: null,
    expect: expectationsFor(experiment, { profile: name }),
    expectationsApply: true,
  }));
  const { spec } = target;
  return {
    experiment: experiment.name,
    description: experiment.description,
    sections: [
      { kind: "runs", on: `target ${spec.name} (${target.file})`, runs },
      timing(experiment),
      {
        kind: "services",
        services: spec.services.map((service) =>
          targetService(service, targetMemoryCapMb(experiment, target, service.name)),
        ),
      },
      {
        kind: "links",
        through:
          toxiproxyUrl === undefined
            ? "the embedded fault proxy"
            : `the Toxiproxy at ${toxiproxyUrl}`,
        links: spec.links.map(({ name, from, to }) => ({ name, from, to })),
      },
      {
        kind: "ingress",
        link: target.ingress.link,
        ingress: target.ingress.spec.kind,
        recorders: target.egresses.map(({ name, spec: egress }) => `${name} (${egress.kind})`),
      },
      {
        kind: "bounds",
        bounds: [
          ...(spec.bounds.backlogEventsMax === undefined
            ? []
            : [{ name: "backlog", value: `${spec.bounds.backlogEventsMax} events` }]),
          ...spec.services
            .filter((service) => service.memoryMbMax !== undefined)
            .map((service) => ({
              name: `${service.name} memory`,
              value: `${service.memoryMbMax} MB`,
            })),
        ],
      },
      ...commonSections(experiment, runs),
    ],
  };
}

const seconds = (ms: number): string => `${(ms / 1_000).toFixed(1)} s`;

/** A fault's line: kind, parameters, note. */
function faultLine(fault: PlannedFault): string {
  const params = formatFaultParams(fault.params);
  return `${fault.kind}${params === "" ? "" : ` ${params}`}${fault.note === undefined ? "" : `  (${fault.note})`}`;
}

/** When a planned step heals, in words. */
function healText(step: PlannedStep): string {
  return step.healAtMs === null
    ? "in force until the end of the method, healed by healAll"
    : `heals at +${seconds(step.healAtMs)} (after ${seconds(step.healAtMs - step.atMs)})`;
}

/** A method step as the plan and the facilitator's prompt show it. */
export function stepLines(step: PlannedStep): string[] {
  return [
    `+${seconds(step.atMs)} (${seconds(step.fromStartMs)} from the start)  ${faultLine(step)}`,
    `target: ${step.target}; ${healText(step)}`,
  ];
}

function expectationText(run: PlannedRun, invariant: string): string {
  if (!run.expectationsApply) return "held (flaws replaced: expectations do not apply)";
  return run.expect[invariant] ?? "held";
}

type Formatter<Kind extends PlanSection["kind"]> = (
  section: Extract<PlanSection, { kind: Kind }>,
) => { title: string; lines: string[] };

const FORMATTERS: { [Kind in PlanSection["kind"]]: Formatter<Kind> } = {
  runs: (section) => ({
    title: `runs, on ${section.on}`,
    lines: section.runs.map((run) =>
      run.flaws === null
        ? run.name
        : `${run.name}: ${run.flaws.length === 0 ? "no flaws" : `flaws ${run.flaws.join(", ")}`}`,
    ),
  }),
  timing: (section) => ({
    title: "timing",
    lines: [
      `warm-up ${formatDuration(section.warmupMs)}, then the method; the workload runs ${formatDuration(section.durationMs)} from the start`,
      `drain up to ${formatDuration(section.drainTimeoutMs)} (quiet ${formatDuration(section.drainQuietMs)} on a target); recovery within ${formatDuration(section.recoveryBoundMs)} of the last heal`,
    ],
  }),
  services: (section) => ({
    title: "services, in start order",
    lines: section.services.map(
      (service) =>
        `${service.name}: ${service.kind}, ${service.runs}${service.role === undefined ? "" : `; role ${service.role}`}${service.ready === undefined ? "" : `; ready: ${service.ready}`}${service.memoryCapMb === undefined ? "" : `; memory cap ${service.memoryCapMb} MB`}`,
    ),
  }),
  links: (section) => ({
    title:
      section.through === null
        ? "links, direct (no fault needs a proxy)"
        : `links, each through ${section.through}`,
    lines: section.links.map((link) => link.name),
  }),
  ingress: (section) => ({
    title: "ingress and recorders",
    lines: [
      `the workload sends ${section.ingress} through ${section.link}`,
      `recorders: ${section.recorders.join(", ")}`,
    ],
  }),
  bounds: (section) => ({
    title: "bounds",
    lines: section.bounds.map((bound) => `${bound.name}: ${bound.value}`),
  }),
  "steady-state": (section) => ({ title: "steady-state hypothesis", lines: section.checks }),
  method: (section) => ({
    title: `method, ${plural(section.steps.length, "fault")}, at offsets from its start (after the warm-up, once the hypothesis holds; from the run's start at the earliest)`,
    lines: section.steps.flatMap((step, index) => {
      const [first, ...rest] = stepLines(step);
      return [`${index + 1}. ${first}`, ...rest.map((line) => `   ${line}`)];
    }),
  }),
  rollbacks: (section) => ({
    title: "rollbacks, always, after healAll",
    lines:
      section.rollbacks.length === 0
        ? ["none"]
        : section.rollbacks.map((fault) => `${faultLine(fault)}; target: ${fault.target}`),
  }),
  abort: (section) => ({
    title:
      "abort conditions, checked from the method's start until the heals (the run stops its faults, heals and rolls back when one trips)",
    lines: section.conditions.length === 0 ? ["none"] : section.conditions,
  }),
  invariants: (section) => ({
    title: "invariants, expected outcome per run",
    lines: section.invariants.map(
      (invariant) =>
        `${invariant}: ${section.runs.map((run) => `${run.name} ${expectationText(run, invariant)}`).join(", ")}`,
    ),
  }),
};

/** The plan as text: a heading per section, its lines indented. */
export function formatPlan(plan: Plan): string {
  const sections = plan.sections.map((section) => {
    const { title, lines } = (FORMATTERS[section.kind] as Formatter<typeof section.kind>)(
      section as never,
    );
    return [`${title}:`, ...lines.map((line) => `  ${line}`)].join("\n");
  });
  return [
    `plan of ${plan.experiment}: ${plan.description}`,
    ...sections,
    "nothing started (dry run)",
  ].join("\n");
}
