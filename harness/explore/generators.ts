// fast-check arbitraries for fault schedules, swarm style (Groce et al., "Swarm Testing"):
// each schedule first draws a random subset of the allowed fault kinds and then its steps from
// that subset only, so that some runs pile many faults of few kinds on the pipeline. Every
// step is drawn as plain integers and decoded into a fault of the scenario's topology, so that
// shrinking (fewer steps, smaller integers) yields fewer, earlier, shorter and simpler faults:
// the integer 0 decodes to the simplest choice of each parameter.

import fc from "fast-check";
import type { FaultFamily } from "../faults/fault.ts";
import { FAULT_WINDOW_MS, MAX_FAULT_MS, MIN_FAULT_MS } from "./scenario.ts";
import type { ScheduleStep } from "./schedule.ts";

/** What a generated fault may name: the scenario's services, sinks, links and tenants. */
export interface ScheduleWorld {
  services: string[];
  sinks: string[];
  links: string[];
  /** Tenants with jobs first (so that 0 picks one), then the others. */
  tenants: string[];
  jobTenants: string[];
  otherTenants: string[];
  datasets: string[];
  /** A dataset no job has: adding a job for it is what set off 14 November 2024. */
  newDataset: string;
}

type Params = Record<string, unknown>;

export interface KindSpec {
  kind: string;
  family: FaultFamily;
  /** Whether the fault lasts `for` a while and then heals; config changes are instants. */
  lasts: boolean;
  /** Parameters from three non-negative integers; (0, 0, 0) is the simplest fault. */
  params(a: number, b: number, c: number, world: ScheduleWorld): Params;
}

const pick = <T>(items: readonly T[], index: number): T => items[index % items.length]!;
const STREAMS = ["downstream", "upstream", "both"] as const;

const link = (a: number, c: number, world: ScheduleWorld): Params => ({
  link: pick(world.links, a),
  stream: pick(STREAMS, c),
});

/** Every kind the explorer draws, simplest first within each family. */
export const KIND_SPECS: readonly KindSpec[] = [
  {
    kind: "config.add-job",
    family: "config",
    lasts: false,
    params: (a, b, _c, world) =>
      a % 2 === 0
        ? { tenant: pick(world.jobTenants, b), dataset: world.newDataset }
        : { tenant: pick(world.otherTenants, b), dataset: pick(world.datasets, a >> 1) },
  },
  { kind: "config.revert", family: "config", lasts: false, params: () => ({}) },
  { kind: "config.push-empty", family: "config", lasts: false, params: () => ({}) },
  { kind: "config.push-corrupt", family: "config", lasts: false, params: () => ({}) },
  {
    kind: "process.kill",
    family: "process",
    lasts: true,
    params: (a, _b, _c, world) => ({ service: pick(world.services, a) }),
  },
  {
    kind: "process.pause",
    family: "process",
    lasts: true,
    params: (a, _b, _c, world) => ({ service: pick(world.services, a) }),
  },
  {
    kind: "process.restart",
    family: "process",
    lasts: false,
    params: (a, _b, _c, world) => ({ service: pick(world.services, a) }),
  },
  {
    kind: "load.surge",
    family: "load",
    lasts: true,
    params: (a) => ({ multiplier: 2 + (a % 4) }),
  },
  {
    kind: "load.tenant-flood",
    family: "load",
    lasts: true,
    params: (a, b, _c, world) => ({ tenant: pick(world.tenants, b), multiplier: 2 + (a % 9) }),
  },
  {
    kind: "load.all-tenants-flood",
    family: "load",
    lasts: true,
    params: (a) => ({ multiplier: 2 + (a % 4) }),
  },
  {
    kind: "sink.error",
    family: "sink",
    lasts: true,
    params: (a, _b, _c, world) => ({ sink: pick(world.sinks, a) }),
  },
  {
    kind: "sink.slow",
    family: "sink",
    lasts: true,
    params: (a, b, _c, world) => ({ sink: pick(world.sinks, a), delayMs: 100 + (b % 3_000) }),
  },
  {
    kind: "sink.throttle",
    family: "sink",
    lasts: true,
    params: (a, b, _c, world) => ({ sink: pick(world.sinks, a), retryAfterMs: 100 + (b % 2_000) }),
  },
  {
    kind: "sink.down",
    family: "sink",
    lasts: true,
    params: (a, _b, _c, world) => ({ sink: pick(world.sinks, a) }),
  },
  {
    kind: "network.down",
    family: "network",
    lasts: true,
    params: (a, _b, _c, world) => ({ link: pick(world.links, a) }),
  },
  {
    kind: "network.latency",
    family: "network",
    lasts: true,
    params: (a, b, c, world) => ({
      ...link(a, c, world),
      latency: 10 + (b % 1_000),
      jitter: (c >> 2) * 10,
    }),
  },
  {
    kind: "network.timeout",
    family: "network",
    lasts: true,
    params: (a, b, c, world) => ({ ...link(a, c, world), timeout: b % 2 === 0 ? 0 : b % 3_000 }),
  },
  {
    kind: "network.reset_peer",
    family: "network",
    lasts: true,
    params: (a, b, c, world) => ({ ...link(a, c, world), timeout: b % 1_000 }),
  },
  {
    kind: "network.bandwidth",
    family: "network",
    lasts: true,
    params: (a, b, c, world) => ({ ...link(a, c, world), rate: 1 + (b % 100) }),
  },
  {
    kind: "network.limit_data",
    family: "network",
    lasts: true,
    params: (a, b, c, world) => ({ ...link(a, c, world), bytes: b }),
  },
  {
    kind: "network.slicer",
    family: "network",
    lasts: true,
    params: (a, b, c, world) => ({
      ...link(a, c, world),
      average_size: 1 + (b % 500),
      delay: (c >> 2) * 50,
    }),
  },
  {
    kind: "network.slow_close",
    family: "network",
    lasts: true,
    params: (a, b, c, world) => ({ ...link(a, c, world), delay: b % 1_000 }),
  },
];

/** The kinds of the given families (all when none), in KIND_SPECS order. */
export function kindsOf(families?: readonly FaultFamily[]): KindSpec[] {
  return KIND_SPECS.filter((spec) => families === undefined || families.includes(spec.family));
}

/** A step of `spec` at `at`, lasting `lasting` ms when the kind lasts. */
export function makeStep(
  spec: KindSpec,
  world: ScheduleWorld,
  at: number,
  lasting: number,
  [a, b, c]: readonly [number, number, number] = [0, 0, 0],
): ScheduleStep {
  return {
    at,
    ...(spec.lasts ? { for: lasting } : {}),
    fault: { kind: spec.kind, ...spec.params(a, b, c, world) },
  };
}

const roundTo = (value: number, step: number): number => Math.round(value / step) * step;

/** Faults that call the target service's own API, when injected and when healed. */
const CONTROL_KINDS = new Set(["sink.error", "sink.slow", "sink.throttle"]);

/**
 * Orders steps by time and drops the ones that could not be carried out as drawn: a kill or
 * pause of a service that is already down, or while a fault set through its own API is in
 * force (its heal would find it down); a fault set through a service's API (a sink's mode, a
 * config change) while that service is down; a second job for the same pair.
 */
export function normalizeSteps(steps: readonly ScheduleStep[]): ScheduleStep[] {
  const ordered = steps
    .map((step, index) => ({ step, index }))
    .sort((x, y) => x.step.at - y.step.at || x.index - y.index)
    .map(({ step }) => step);
  const windows = new Map<string, Array<{ from: number; to: number; down: boolean }>>();
  const overlaps = (service: string, from: number, to: number, down: boolean): boolean =>
    (windows.get(service) ?? []).some(
      (window) => (down || window.down) && window.from <= to && from <= window.to,
    );
  const occupy = (service: string, from: number, to: number, down: boolean): void => {
    windows.set(service, [...(windows.get(service) ?? []), { from, to, down }]);
  };
  const jobs = new Set<string>();
  return ordered.filter((step) => {
    const fault = step.fault as Params & { kind: string };
    const to = step.at + (step.for ?? Number.POSITIVE_INFINITY);
    if (fault.kind === "process.kill" || fault.kind === "process.pause") {
      const service = String(fault.service);
      if (overlaps(service, step.at, to, true)) return false;
      occupy(service, step.at, to, true);
    }
    if (CONTROL_KINDS.has(fault.kind)) {
      const sink = String(fault.sink);
      if (overlaps(sink, step.at, to, false)) return false;
      occupy(sink, step.at, to, false);
    }
    if (fault.kind.startsWith("config.") && overlaps("config", step.at, step.at, false)) {
      return false;
    }
    if (fault.kind === "config.add-job") {
      const key = `${String(fault.tenant)}/${String(fault.dataset)}`;
      if (jobs.has(key)) return false;
      jobs.add(key);
    }
    return true;
  });
}

const rawStep = fc.record({
  pick: fc.nat({ max: 63 }),
  at: fc.integer({ min: 0, max: FAULT_WINDOW_MS }),
  lasting: fc.integer({ min: MIN_FAULT_MS, max: MAX_FAULT_MS }),
  // Small ranges shrink in few steps: a and c pick among targets and modes, b sizes magnitudes.
  a: fc.nat({ max: 63 }),
  b: fc.nat({ max: 4_095 }),
  c: fc.nat({ max: 63 }),
});

/** Most faults in one drawn schedule unless told otherwise (`spillway explore --max-faults`). */
export const STEPS_MAX_DEFAULT = 6;

/** Schedules of 1 to `maxSteps` faults drawn swarm-style from `kinds`. */
export function scheduleArbitrary(
  kinds: readonly KindSpec[],
  world: ScheduleWorld,
  maxSteps = STEPS_MAX_DEFAULT,
): fc.Arbitrary<ScheduleStep[]> {
  if (kinds.length === 0) throw new Error("no fault kinds to draw from");
  return fc
    .record({
      swarm: fc.subarray(
        kinds.map((_, index) => index),
        { minLength: 1 },
      ),
      steps: fc.array(rawStep, { minLength: 1, maxLength: maxSteps }),
    })
    .map(({ swarm, steps }) =>
      normalizeSteps(
        steps.map((step) =>
          makeStep(
            kinds[pick(swarm, step.pick)]!,
            world,
            roundTo(step.at, 10),
            roundTo(step.lasting, 100),
            [step.a, step.b, step.c],
          ),
        ),
      ),
    );
}
