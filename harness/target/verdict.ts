// The verdict of a run on a target (docs/targets.md, "The verdict"): one ledger per routed egress
// (a copy at one destination must not hide loss at another), from the workload's own record and
// what Spillway's recorders received; declared drops from a dead-letter egress (exact ids) or a
// Prometheus counter (a count: loss up to it is unknown, not held); the backlog measured from
// outside as acknowledged − delivered − declared; memory from the OS. The lost events are given
// as sequence ranges with when they were produced and which fault windows they fall in.

import type { DropRecord } from "../../pipeline/core/drops.ts";
import { pairKey, streamKey } from "../../pipeline/core/event.ts";
import type { Verdict } from "../experiment/journal.ts";
import { faultWindows, type FaultWindow } from "../experiment/fault-windows.ts";
import { ledgerStreams, withinWindow } from "../experiment/ledger-input.ts";
import {
  firstRecovered,
  preFaultLevel,
  recoveryThresholds,
  type BacklogReading,
} from "../experiment/phases/recovery.ts";
import type { RunState } from "../experiment/run-state.ts";
import type { RunSeries } from "../experiment/series.ts";
import {
  buildSeries,
  seriesFaults,
  settledStream,
  type SettledStream,
} from "../experiment/series-build.ts";
import { probeText } from "../http/json-client.ts";
import { checkSafely, checkInvariants } from "../invariants/index.ts";
import type { InvariantResult, Observations } from "../invariants/types.ts";
import { backlogAt, type OwedStream } from "../ledger/backlog.ts";
import { collectDeliveries } from "../ledger/collect.ts";
import type { IntervalSet } from "../ledger/interval-set.ts";
import type { JobRecord } from "../ledger/job-record.ts";
import {
  computeLedger,
  rangeTotal,
  type JobSpan,
  type LedgerDelivery,
  type LedgerStream,
} from "../ledger/ledger.ts";
import type { WorkloadRecord } from "../workload/record.ts";
import { routeEgresses, targetMemoryCapMb } from "./load.ts";
import type { TargetObserver } from "./observer.ts";
import type { StartedTarget } from "./topology.ts";

/**
 * A lost event produced this long before a fault began still counts as inside its window: it was
 * in flight, or waiting in the pipeline, when the fault struck (a batch acknowledged just before
 * Redis's consumer link went down and Redis was killed, say).
 */
export const IN_FLIGHT_LEAD_MS = 1_000;

/** Lost ranges listed in the evidence; the count is always exact. */
const LOST_RANGES_MAX = 50;

export interface LostRange {
  stream: string;
  seqFrom: number;
  seqTo: number;
  /** When the range's events were produced, in ms since the run started. */
  producedFromMs: number;
  producedToMs: number;
  /** The fault windows the production overlaps (empty: lost outside every fault). */
  faults: string[];
}

/** The lost events as ranges, each with its production time and the faults it overlaps. */
function lostRanges(
  lost: Array<{ stream: LedgerStream; lost: IntervalSet }>,
  windows: FaultWindow[],
  startedAt: number,
): { ranges: LostRange[]; total: number; outsideFaults: number } {
  const ranges: LostRange[] = [];
  let total = 0;
  let outsideFaults = 0;
  for (const { stream, lost: seqs } of lost) {
    seqs.forEachRange((from, to) => {
      // A range may span production runs: split it at their edges for exact times.
      for (const run of stream.runs) {
        const seqFrom = Math.max(from, run.seqFrom);
        const seqTo = Math.min(to, run.seqTo);
        if (seqFrom > seqTo) continue;
        const range: LostRange = {
          stream: streamKey(stream),
          seqFrom,
          seqTo,
          producedFromMs: run.firstAt - startedAt,
          producedToMs: run.lastAt - startedAt,
          faults: windows
            .filter(
              (window) =>
                window.from - IN_FLIGHT_LEAD_MS <= run.lastAt - startedAt &&
                run.firstAt - startedAt <= window.to,
            )
            .map((window) => window.name),
        };
        const events = seqTo - seqFrom + 1;
        total += events;
        if (range.faults.length === 0) outsideFaults += events;
        const last = ranges[ranges.length - 1];
        if (
          last !== undefined &&
          last.stream === range.stream &&
          last.seqTo + 1 === seqFrom &&
          last.faults.join() === range.faults.join()
        ) {
          last.seqTo = seqTo;
          last.producedToMs = range.producedToMs;
        } else ranges.push(range);
      }
    });
  }
  return { ranges: ranges.slice(0, LOST_RANGES_MAX), total, outsideFaults };
}

/**
 * The jobs the routes make, per routed egress (docs/targets.md, "Routes"), each in force for the
 * whole run. Read from the record's changes rather than its spans: the record keeps one
 * destination per (tenant, dataset), as the reference pipeline's jobs have one, while routes may
 * send a pair to several egresses (a fan-out, a copy in an archive), each owed every event.
 */
export function routeSpans(jobs: JobRecord): Map<string, JobSpan[]> {
  const byEgress = new Map<string, JobSpan[]>();
  const seen = new Set<string>();
  for (const change of jobs.all()) {
    const key = `${change.destination} ${pairKey(change.tenant, change.dataset)}`;
    if (!change.enabled || seen.has(key)) continue;
    seen.add(key);
    // A route's destination is `<egress>/all` (run.ts, routeJobs); a name holds no slash.
    const egress = change.destination.split("/")[0]!;
    let spans = byEgress.get(egress);
    if (spans === undefined) byEgress.set(egress, (spans = []));
    const { tenant, dataset, destination } = change;
    spans.push({
      tenant,
      dataset,
      destination,
      from: change.confirmedAt ?? change.askedAt,
      to: null,
    });
  }
  return byEgress;
}

/**
 * The events the routed egresses are owed, each acknowledged event once per egress a route sends
 * it to: what the recorders hold, copies included, once everything has arrived.
 */
export function owedEvents(record: WorkloadRecord, jobs: JobRecord): number {
  const egressesOf = new Map<string, number>();
  for (const spans of routeSpans(jobs).values())
    for (const span of spans) {
      const pair = pairKey(span.tenant, span.dataset);
      egressesOf.set(pair, (egressesOf.get(pair) ?? 0) + 1);
    }
  let owed = 0;
  for (const stream of record.streams())
    owed += stream.acked.size * (egressesOf.get(pairKey(stream.tenant, stream.dataset)) ?? 0);
  return owed;
}

/** The sum of a Prometheus metric's samples (all label sets) in an exposition text. */
export function metricSum(text: string, metric: string): number | null {
  let sum: number | null = null;
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (match === null || match[1] !== metric) continue;
    const value = Number(match[3]);
    if (Number.isFinite(value)) sum = (sum ?? 0) + value;
  }
  return sum;
}

/**
 * The drops a counter declared over the run: its rise from when the target had started to the
 * end; why that cannot be told, when it cannot (a reading failed, or the counter went down
 * because its service restarted, and what it had counted before is gone).
 */
export function counterRise(
  atStart: number | null,
  atEnd: number | null,
): { rise: number } | { unknown: string } {
  if (atStart === null) return { unknown: "unreadable when the target had started" };
  if (atEnd === null) return { unknown: "unreadable at the end" };
  if (atEnd < atStart)
    return { unknown: `went down from ${atStart} to ${atEnd}: its service restarted` };
  return { rise: atEnd - atStart };
}

/**
 * no-silent-loss on one egress in the light of the drops counters declared (docs/targets.md,
 * "Declared drops"): a count names no event, so a loss no larger than it may be those drops and
 * is unknown, not violated; a larger one stays violated.
 */
export function weighCounterDrops(
  result: InvariantResult,
  lost: number,
  declaredByCounter: number,
): InvariantResult {
  if (result.status !== "violated" || lost > declaredByCounter) return result;
  return {
    ...result,
    status: "unknown",
    summary: `${result.summary}; but counters declare ${declaredByCounter} dropped events, which may be these (a count names no event)`,
  };
}

/** A declared-drop counter read from outside; null when it cannot be read. */
export async function readCounter(
  started: StartedTarget,
  declared: { service: string; port: string; path: string; metric: string },
): Promise<number | null> {
  const url = started.portUrl(declared.service, declared.port) + declared.path;
  const text = await probeText(started.net, url, 5_000).catch(() => null);
  return text === null ? null : metricSum(text, declared.metric);
}

export interface TargetEvidence {
  started: StartedTarget;
  observer: TargetObserver;
  /** Each Prometheus counter of declared drops at the start, to subtract. */
  countersAtStart: Array<number | null>;
  /** What the ingress counts as an acknowledgement (stated in the verdict). */
  acknowledgement: string;
}

function worst(results: InvariantResult[]): InvariantResult {
  const rank = { violated: 2, unknown: 1, held: 0 } as const;
  const sorted = [...results].sort((a, b) => rank[b.status] - rank[a.status]);
  return sorted[0]!;
}

/**
 * The run's time series (series-build.ts) on a target: events as the first routed egress's ledger
 * settled them, the backlog measured from outside as the buffer, memory from the OS against each
 * service's cap as the abort conditions read it (targetMemoryCapMb), health by each probe.
 */
function targetSeries(
  state: RunState,
  { started, observer }: TargetEvidence,
  streams: SettledStream[],
  backlog: BacklogReading[],
): RunSeries {
  const { experiment } = state;
  return buildSeries({
    startedAt: state.started,
    endedAt: state.clock.now(),
    streams,
    buffer: {
      unit: "events",
      held: backlog.map((reading) => ({ at: reading.at, value: reading.owedEvents })),
      buffers: null,
      bound: started.target.spec.bounds.backlogEventsMax ?? null,
      buffersBound: null,
    },
    memory: observer.memoryOverTime().map(({ service, readings }) => ({
      service,
      capMb: targetMemoryCapMb(experiment, started.target, service) ?? null,
      readingsMb: readings.map((reading) => ({ at: reading.at, value: reading.mb })),
    })),
    health: observer.healthSamples,
    faults: seriesFaults(state.steps, experiment.method),
    published: [],
    maxRemovedPairShare: state.limits.maxRemovedPairShare,
    decisions: [],
    events: started.events(),
  });
}

export async function settleTargetVerdict(
  state: RunState,
  evidence: TargetEvidence,
): Promise<Verdict> {
  const { started, observer } = evidence;
  const workload = state.producing();
  const jobs = state.jobs!;
  const { experiment, clock } = state;
  const target = started.target;
  const streams = ledgerStreams(workload.record);
  const spansOf = routeSpans(jobs);

  const deliveriesOf = new Map<string, LedgerDelivery[]>();
  const unreadableSinks: string[] = [];
  for (const [name, recorder] of started.recorders) {
    try {
      deliveriesOf.set(
        name,
        await collectDeliveries(started.net, [{ name, component: "sink", url: recorder.url() }]),
      );
    } catch {
      unreadableSinks.push(name);
      deliveriesOf.set(name, []);
    }
  }
  const drops: DropRecord[] = [];
  for (const declared of target.spec.declared) {
    if (!("egress" in declared)) continue;
    for (const delivery of deliveriesOf.get(declared.egress) ?? [])
      drops.push({
        id: drops.length,
        at: delivery.at ?? 0,
        component: declared.egress,
        reason: `dead-letter:${declared.egress}`,
        count: delivery.streams.reduce((sum, stream) => sum + rangeTotal(stream.ranges), 0),
        streams: delivery.streams,
      });
  }
  let declaredCount = 0;
  const counters = target.spec.declared.flatMap((declared) =>
    "prometheus" in declared ? [declared.prometheus] : [],
  );
  const counterUnread: string[] = [];
  for (const [index, counter] of counters.entries()) {
    const read = counterRise(
      evidence.countersAtStart[index] ?? null,
      await readCounter(started, counter),
    );
    if ("rise" in read) declaredCount += read.rise;
    else counterUnread.push(`${counter.service} ${counter.metric} (${read.unknown})`);
  }

  const routed = [...new Set(target.spec.routes.flatMap(routeEgresses))];
  const windows = faultWindows(state.steps, state.since());
  const perEgress = routed.map((egress, index) => {
    const egressSpans = spansOf.get(egress) ?? [];
    const owed: OwedStream[] = [];
    const lost: Array<{ stream: LedgerStream; lost: IntervalSet }> = [];
    const settledStreams: SettledStream[] = [];
    const deliveries = deliveriesOf.get(egress) ?? [];
    const ledger = computeLedger({
      streams,
      deliveries,
      drops,
      jobs: egressSpans,
      graceMs: 0,
      onStream: (stream, settled) => {
        owed.push({
          stream,
          owed: state.drained ? settled.expected.difference(settled.lost) : settled.expected,
        });
        if (!settled.lost.isEmpty()) lost.push({ stream, lost: settled.lost });
        // The run's series charts the first egress only (targetSeries, below).
        if (index === 0) settledStreams.push(settledStream(stream, settled));
      },
    });
    return { egress, ledger, owed, deliveries, lost, spans: egressSpans, settled: settledStreams };
  });

  // The backlog over time, from outside, summed over the routed egresses.
  const times = observer.healthSamples.map((sample) => sample.at);
  const owedAt = times.map(() => 0);
  for (const entry of perEgress) {
    const values = backlogAt(entry.owed, entry.deliveries, drops, times);
    values.forEach((value, index) => (owedAt[index]! += value));
  }
  const readings: BacklogReading[] = observer.healthSamples.map((sample, index) => ({
    at: sample.at,
    bytes: 0,
    owedEvents: owedAt[index]!,
    healthy: sample.unhealthy.length === 0,
  }));
  let backlogPeak = { peakEvents: 0, at: null as number | null };
  for (const reading of readings)
    if (reading.owedEvents > backlogPeak.peakEvents)
      backlogPeak = { peakEvents: reading.owedEvents, at: reading.at };

  const { firstFaultAt, lastHealAt } = state;
  let recoveredAt: number | null = null;
  let backlogEvidence: Observations["recovery"]["backlog"];
  if (firstFaultAt !== null && lastHealAt !== null) {
    const preFault = preFaultLevel(readings, firstFaultAt);
    const thresholds = recoveryThresholds(preFault);
    recoveredAt = firstRecovered(readings, lastHealAt, thresholds)?.at ?? null;
    const last = readings[readings.length - 1];
    backlogEvidence = {
      preFault,
      thresholds,
      ...(last === undefined ? {} : { lastReading: last }),
    };
  }
  state.series = targetSeries(state, evidence, perEgress[0]!.settled, readings);
  const memoryExceeded = started
    .events()
    .flatMap((event) =>
      event.kind === "memory-cap-exceeded"
        ? [{ service: event.service, at: event.at, rssMb: event.rssMb, capMb: event.capMb }]
        : [],
    );
  const peaks = new Map(observer.memoryPeaks().map((peak) => [peak.service, peak]));
  // bounded-buffer judges each declared bound, `memoryMbMax`, not the cap the series charts: a
  // cap the experiment sets kills, and that kill is a breach of its own (docs/targets.md,
  // "Bounds").
  const bounds = {
    memory: target.spec.services
      .filter((service) => service.memoryMbMax !== undefined)
      .map((service) => {
        const peak = peaks.get(service.name);
        return {
          service: service.name,
          peakMb: peak === undefined ? null : Math.round(peak.peakMb * 10) / 10,
          at: peak?.at ?? null,
          boundMb: service.memoryMbMax!,
        };
      }),
    backlog: {
      ...backlogPeak,
      boundEvents: target.spec.bounds.backlogEventsMax ?? null,
      readings: readings.length,
    },
  };

  const observationsOf = (ledger: (typeof perEgress)[number]["ledger"]): Observations => ({
    startedAt: state.started,
    ledger,
    drained: state.drained,
    unreadableDrops: counterUnread,
    unreadableSinks,
    indeterminateShareMax: experiment.verdict.indeterminateShareMax,
    buffer: {
      service: "",
      samples: [],
      bounds: { maxBufferBytes: 0, maxTenantBytes: 0, maxBuffers: 0, maxMemoryMb: 0 },
    },
    target: bounds,
    memoryExceeded,
    configDecisions: [],
    recovery: {
      lastHealAt,
      recoveredAt,
      boundMs: experiment.recoveryBound,
      observedUntil: clock.now(),
      ...(backlogEvidence === undefined ? {} : { backlog: backlogEvidence }),
    },
  });

  const names = experiment.invariants.filter((name) => name !== "config-safety");
  const byEgress = perEgress.map((entry) => {
    const results = checkInvariants(observationsOf(entry.ledger), names);
    const lossFacts = lostRanges(entry.lost, windows, state.started);
    return { entry, results, lossFacts };
  });
  const invariants: Verdict["invariants"] = {};
  for (const name of names) {
    const results = byEgress.map(({ entry, results: all, lossFacts }) => {
      let result = all.find((candidate) => candidate.name === name)!;
      if (name === "no-silent-loss") {
        result = {
          ...result,
          evidence: {
            ...result.evidence,
            lostRanges: lossFacts.ranges,
            lostOutsideFaultWindows: lossFacts.outsideFaults,
            faultWindows: windows,
          },
        };
        const { lost } = entry.ledger.totals;
        result = weighCounterDrops(result, lost, declaredCount);
        if (lost > 0 && result.status === "violated")
          result = {
            ...result,
            summary: `${result.summary}; ${lossFacts.outsideFaults === 0 ? "all within fault windows" : `${lossFacts.outsideFaults} produced outside every fault window`}`,
          };
      }
      return routed.length === 1
        ? result
        : { ...result, summary: `egress ${entry.egress}: ${result.summary}` };
    });
    invariants[name] = routed.length === 1 ? results[0]! : worst(results);
  }
  if (experiment.invariants.includes("config-safety"))
    invariants["config-safety"] = checkSafely(
      "config-safety",
      () => ({
        name: "config-safety",
        status: "unknown",
        summary: "a target has no config service the harness reads: config-safety is not judged",
        evidence: {},
      }),
      observationsOf(perEgress[0]!.ledger),
    );

  // The headline ledger is the first routed egress's (summing would count every produced event
  // once per egress); every egress's own is in target.egresses.
  const { totals, tenants } = perEgress[0]!.ledger;
  const windowEnd = lastHealAt ?? clock.now();
  const windowLedger =
    firstFaultAt === null
      ? null
      : computeLedger({
          streams: withinWindow(streams, firstFaultAt, windowEnd),
          deliveries: perEgress[0]!.deliveries,
          drops,
          jobs: perEgress[0]!.spans,
          graceMs: 0,
        }).totals;
  const stats = workload.stats();
  const share = (part: number, whole: number): number => (whole === 0 ? 0 : part / whole);
  return {
    invariants,
    ledger: totals,
    ledgerByTenant: tenants,
    incidentWindow:
      windowLedger === null
        ? null
        : {
            fromMs: firstFaultAt! - state.started,
            toMs: windowEnd - state.started,
            ledger: windowLedger,
            silentLossShare: share(windowLedger.lost, windowLedger.expected),
          },
    figures: {
      produced: stats.produced,
      acknowledged: stats.acked,
      deliveredShare: share(totals.delivered, totals.expected),
      silentLossShare: share(totals.lost, totals.expected),
      bufferHighWaterBytes: 0,
      bufferHighWaterBuffers: 0,
      bufferBoundBytes: 0,
      bufferBoundBuffers: 0,
      eventsPerSecond: share(stats.produced, experiment.duration / 1000),
    },
    target: {
      name: target.spec.name,
      variant: started.variant ?? null,
      acknowledgement: evidence.acknowledgement,
      egresses: Object.fromEntries(perEgress.map((entry) => [entry.egress, entry.ledger.totals])),
      declaredByCounter: counters.length === 0 ? null : declaredCount,
      bounds,
    },
  };
}
