// Builds the run's time series (series.ts, `journal.series`) from what a run holds at its verdict:
// the ledger's settlement of every stream, the buffer's and memory readings, health, the fault
// windows, the configs and the runtime's events. Pure: the verdicts (phases/verdict.ts,
// harness/target/verdict.ts) gather the inputs; nothing here reads a service.
//
// Events are counted by the bucket they were produced in (a production run's first instant), so
// that a loss shows where its events came from, not when the harness noticed (docs/architecture.md
// §5). Readings keep the highest value per bucket; a bucket with no reading is null, not zero.

import type { ConfigDecision } from "../../pipeline/forwarder/config-policy.ts";
import type { IntervalSet } from "../ledger/interval-set.ts";
import type { SeenConfig } from "../ledger/job-record.ts";
import type { LedgerStream, StreamSettlement } from "../ledger/ledger.ts";
import type { RuntimeEvent } from "../runtime/runtime.ts";
import type { ProductionRun } from "../workload/record.ts";
import { faultTarget } from "../faults/registry.ts";
import { judgePublished } from "./config-evidence.ts";
import type { MethodStep } from "./definition.ts";
import { methodStepsWithHeals } from "./fault-windows.ts";
import type { JournalStep } from "./journal.ts";
import { methodOrder } from "./phases/method.ts";
import { bucketMsFor, SERIES_TENANTS_MAX, type Buckets, type RunSeries } from "./series.ts";

export type EventClass = keyof RunSeries["events"];
export const EVENT_CLASSES = [
  "produced",
  "acknowledged",
  "rejected",
  "delivered",
  "declared",
  "lost",
  "indeterminate",
] as const satisfies readonly EventClass[];

/** The key under which the tenants beyond SERIES_TENANTS_MAX are summed. */
export const OTHER_TENANTS = "other";

/** Runtime events charted as restarts and kills (not ready, paused, resumed). */
const RESTART_KINDS = new Set(["started", "signalled", "exited", "memory-cap-exceeded"]);

/** One stream's events by class, with the production runs that say when each seq was produced. */
export interface SettledStream {
  tenant: string;
  runs: readonly ProductionRun[];
  classes: Record<EventClass, IntervalSet>;
}

/** A reading at `at` (ms on the run's clock). */
export interface Reading {
  at: number;
  value: number;
}

export interface SeriesInput {
  /** The run's start on its clock (bucket 0 starts here) and its end. */
  startedAt: number;
  endedAt: number;
  streams: Iterable<SettledStream>;
  buffer: {
    unit: RunSeries["buffer"]["unit"];
    held: readonly Reading[];
    /** Null on a target, which has no buffers to count. */
    buffers: readonly Reading[] | null;
    bound: number | null;
    buffersBound: number | null;
  };
  memory: ReadonlyArray<{ service: string; capMb: number | null; readingsMb: readonly Reading[] }>;
  health: ReadonlyArray<{ at: number; unhealthy: readonly string[] }>;
  /** Already in ms since the start (seriesFaults). */
  faults: RunSeries["faults"];
  /** What the harness read from the config service, judged against `maxRemovedPairShare`. */
  published: readonly SeenConfig[];
  maxRemovedPairShare: number;
  /** The forwarder's account of the configs it applied. */
  decisions: readonly ConfigDecision[];
  events: readonly RuntimeEvent[];
}

/** One stream's events by class as the ledger settled them (computeLedger's onStream). */
export function settledStream(stream: LedgerStream, settled: StreamSettlement): SettledStream {
  return { tenant: stream.tenant, runs: stream.runs, classes: settled };
}

/** Calls `add(run, count)` for the seqs of `set` within each run; both ascending, one pass. */
function countByRun(
  set: IntervalSet,
  runs: readonly ProductionRun[],
  add: (run: ProductionRun, count: number) => void,
): void {
  let first = 0;
  set.forEachRange((from, to) => {
    while (first < runs.length && runs[first]!.seqTo < from) first++;
    for (let index = first; index < runs.length && runs[index]!.seqFrom <= to; index++) {
      const run = runs[index]!;
      add(run, Math.min(to, run.seqTo) - Math.max(from, run.seqFrom) + 1);
    }
  });
}

/** The highest reading per bucket; null where a bucket has none. */
function highestPerBucket(
  readings: readonly Reading[],
  bucketOf: (at: number) => number,
  buckets: number,
  round: (value: number) => number = (value) => value,
): Buckets {
  const highest: Buckets = new Array<number | null>(buckets).fill(null);
  for (const { at, value } of readings) {
    const bucket = bucketOf(at);
    const rounded = round(value);
    if (highest[bucket] === null || rounded > highest[bucket]!) highest[bucket] = rounded;
  }
  return highest;
}

function eventSeries(
  streams: Iterable<SettledStream>,
  bucketOf: (at: number) => number,
  buckets: number,
): Pick<RunSeries, "events" | "lostByTenant"> {
  const zeros = (): number[] => new Array<number>(buckets).fill(0);
  const events = Object.fromEntries(EVENT_CLASSES.map((name) => [name, zeros()])) as Record<
    EventClass,
    number[]
  >;
  const lostOf = new Map<string, number[]>();
  for (const stream of streams) {
    let tenantLost: number[] | undefined;
    if (!stream.classes.lost.isEmpty()) {
      tenantLost = lostOf.get(stream.tenant);
      if (tenantLost === undefined) lostOf.set(stream.tenant, (tenantLost = zeros()));
    }
    for (const name of EVENT_CLASSES) {
      const counts = events[name];
      // A lost event is counted once, into the total and its tenant's row at the same time.
      const alsoInto = name === "lost" ? tenantLost : undefined;
      countByRun(stream.classes[name], stream.runs, (run, count) => {
        const bucket = bucketOf(run.firstAt);
        counts[bucket]! += count;
        if (alsoInto !== undefined) alsoInto[bucket]! += count;
      });
    }
  }
  return { events, lostByTenant: lostByTenant(lostOf, buckets) };
}

/** The SERIES_TENANTS_MAX tenants with most loss (then by name), the rest summed as "other". */
function lostByTenant(lostOf: Map<string, number[]>, buckets: number): Record<string, Buckets> {
  const total = (counts: number[]): number => counts.reduce((sum, count) => sum + count, 0);
  const ranked = [...lostOf.entries()]
    .map(([tenant, counts]) => ({ tenant, counts, lost: total(counts) }))
    .sort((a, b) => b.lost - a.lost || a.tenant.localeCompare(b.tenant));
  const charted: Record<string, Buckets> = {};
  for (const { tenant, counts } of ranked.slice(0, SERIES_TENANTS_MAX)) charted[tenant] = counts;
  const rest = ranked.slice(SERIES_TENANTS_MAX);
  if (rest.length > 0) {
    const other = (charted[OTHER_TENANTS] as number[] | undefined) ?? new Array(buckets).fill(0);
    for (const { counts } of rest) counts.forEach((count, bucket) => (other[bucket]! += count));
    charted[OTHER_TENANTS] = other;
  }
  return charted;
}

function unhealthySeries(
  health: SeriesInput["health"],
  bucketOf: (at: number) => number,
  buckets: number,
): Array<string[] | null> {
  const seen: Array<Set<string> | null> = new Array<Set<string> | null>(buckets).fill(null);
  for (const reading of health) {
    const bucket = bucketOf(reading.at);
    const services = (seen[bucket] ??= new Set());
    for (const service of reading.unhealthy) services.add(service);
  }
  return seen.map((services) => (services === null ? null : [...services].sort()));
}

function configSeries(
  input: SeriesInput,
  sinceStart: (at: number) => number,
): RunSeries["configs"] {
  const judged = judgePublished(input.published, input.maxRemovedPairShare);
  const invalidOf = new Map(judged.map(({ seen, invalid }) => [seen.version, invalid]));
  const published = judged.map(({ seen, invalid }) => ({
    atMs: sinceStart(seen.seenAt),
    kind: "published" as const,
    version: seen.version,
    invalid,
  }));
  const applied = input.decisions
    .filter((decision) => decision.applied)
    .map((decision) => ({
      atMs: sinceStart(decision.at),
      kind: "applied" as const,
      version: decision.version,
      invalid: invalidOf.get(decision.version) ?? null,
    }));
  return [...published, ...applied].sort((a, b) => a.atMs - b.atMs);
}

/**
 * The fault windows for the series: each method step that succeeded until its heal (toMs null
 * when none followed), with its target from the experiment's method (steps run in methodOrder).
 */
export function seriesFaults(
  steps: readonly JournalStep[],
  method: readonly MethodStep[],
): RunSeries["faults"] {
  const ordered = methodOrder(method);
  return methodStepsWithHeals(steps).flatMap(({ step, heal }, index) => {
    if (!step.ok) return [];
    const fault = ordered[index]?.fault;
    return [
      {
        name: step.name,
        target: fault === undefined ? null : faultTarget(fault),
        fromMs: step.startedMs,
        toMs: heal?.endedMs ?? null,
      },
    ];
  });
}

const tenths = (value: number): number => Math.round(value * 10) / 10;

/** The run's time series (series.ts): `bucketMsFor` of its duration, bucket 0 at its start. */
export function buildSeries(input: SeriesInput): RunSeries {
  const durationMs = Math.max(0, input.endedAt - input.startedAt);
  const bucketMs = bucketMsFor(durationMs);
  const buckets = Math.max(1, Math.ceil(durationMs / bucketMs));
  // Readings after the end (a last one taken while stopping) count in the last bucket.
  const bucketOf = (at: number): number =>
    Math.min(buckets - 1, Math.max(0, Math.floor((at - input.startedAt) / bucketMs)));
  const sinceStart = (at: number): number => at - input.startedAt;
  const { buffer } = input;
  return {
    bucketMs,
    buckets,
    ...eventSeries(input.streams, bucketOf, buckets),
    buffer: {
      unit: buffer.unit,
      held: highestPerBucket(buffer.held, bucketOf, buckets, Math.round),
      buffers: buffer.buffers === null ? null : highestPerBucket(buffer.buffers, bucketOf, buckets),
      bound: buffer.bound,
      buffersBound: buffer.buffersBound,
    },
    memory: input.memory.map(({ service, capMb, readingsMb }) => ({
      service,
      mb: highestPerBucket(readingsMb, bucketOf, buckets, tenths),
      capMb,
    })),
    unhealthy: unhealthySeries(input.health, bucketOf, buckets),
    faults: input.faults,
    configs: configSeries(input, sinceStart),
    restarts: input.events
      .filter((event) => RESTART_KINDS.has(event.kind))
      .map((event) => ({ atMs: sinceStart(event.at), service: event.service, kind: event.kind })),
  };
}
