// The verdict: settle every event in the ledger from what the harness collected, and check the
// invariants over the run's observations.

import type { Limits } from "../../../pipeline/core/limits.ts";
import { checkInvariants } from "../../invariants/index.ts";
import type { Observations } from "../../invariants/types.ts";
import { collectDeliveries, collectJobs } from "../../ledger/collect.ts";
import { crossCheckTimeline, type JobRecord } from "../../ledger/job-record.ts";
import { backlogAt, type OwedStream } from "../../ledger/backlog.ts";
import type { JobSpan, LedgerDelivery } from "../../ledger/ledger.ts";
import type { DropRecord } from "../../../pipeline/core/drops.ts";
import type { Observer } from "../observer.ts";
import {
  firstRecovered,
  preFaultLevel,
  recoveryThresholds,
  type BacklogReading,
} from "./recovery.ts";
import { computeLedger } from "../../ledger/ledger.ts";
import { firstOf } from "../../faults/targets.ts";
import type { Verdict } from "../journal.ts";
import { configEvidence } from "../config-evidence.ts";
import { ledgerStreams, withinWindow } from "../ledger-input.ts";
import { referenceMemoryCapMb, type MemoryCap } from "../memory-cap.ts";
import type { RunState } from "../run-state.ts";
import type { RunSeries } from "../series.ts";
import {
  buildSeries,
  seriesFaults,
  settledStream,
  type Reading,
  type SettledStream,
} from "../series-build.ts";
import { serviceRunning } from "../../runtime/runtime.ts";

const share = (part: number, whole: number): number => (whole === 0 ? 0 : part / whole);

/** Events produced this near a job change are indeterminate: two config polls and a margin. */
export function ledgerGraceMs(limits: Pick<Limits, "configPollMs">): number {
  return 2 * limits.configPollMs + 200;
}

/**
 * The config service's own timeline, compared with the harness's record: a cross-check only.
 * A service that cannot be read is reported as such; it never moves the ground truth.
 */
async function crossCheckJobs(
  state: RunState,
  jobs: JobRecord,
  spans: JobSpan[],
  graceMs: number,
  readTimeline: () => Promise<JobSpan[]>,
): Promise<Verdict["jobTimeline"]> {
  const recorded = { source: "harness" as const, changes: jobs.all().length };
  try {
    const service = await readTimeline();
    const { disagreements, count } = crossCheckTimeline(
      spans,
      service,
      graceMs,
      state.started,
      state.clock.now(),
    );
    return {
      ...recorded,
      crossCheck: { agrees: count === 0, disagreements: count, first: disagreements },
    };
  } catch (error) {
    return { ...recorded, crossCheck: { unreadable: (error as Error).message } };
  }
}

/** The backlog and health at every buffer reading of the run (docs/architecture.md §5). */
function backlogReadings(
  observer: Observer,
  owed: OwedStream[],
  deliveries: LedgerDelivery[],
  drops: DropRecord[],
): BacklogReading[] {
  const samples = observer.bufferSamples;
  const owedEvents = backlogAt(
    owed,
    deliveries,
    drops,
    samples.map((sample) => sample.at),
  );
  const health = observer.healthSamples;
  let latestHealth = -1;
  return samples.map((sample, index) => {
    while (latestHealth + 1 < health.length && health[latestHealth + 1]!.at <= sample.at)
      latestHealth++;
    const reading = health[latestHealth];
    return {
      at: sample.at,
      bytes: sample.bytes,
      owedEvents: owedEvents[index]!,
      healthy: reading !== undefined && reading.unhealthy.length === 0,
    };
  });
}

/** When the pipeline recovered after the last heal, from the readings, with the evidence. */
function judgeRecovery(state: RunState, readings: BacklogReading[]) {
  const { firstFaultAt, lastHealAt } = state;
  if (firstFaultAt === null || lastHealAt === null)
    return { recoveredAt: null, backlog: undefined };
  const preFault = preFaultLevel(readings, firstFaultAt);
  const thresholds = recoveryThresholds(preFault);
  const recovered = firstRecovered(readings, lastHealAt, thresholds);
  const last = readings[readings.length - 1];
  return {
    recoveredAt: recovered?.at ?? null,
    backlog: { preFault, thresholds, ...(last === undefined ? {} : { lastReading: last }) },
  };
}

/**
 * The run's time series (series-build.ts) from the ledger's streams and the observer's readings,
 * each service's memory against its cap as `memoryCapMb` (memory-cap.ts) gives it.
 */
function referenceSeries(state: RunState, streams: SettledStream[], capMb: MemoryCap): RunSeries {
  const { topology, observer } = state.running();
  const { experiment, limits } = state;
  const caps = experiment.topology.memoryCapMb ?? {};
  const readingsOf = new Map<string, Reading[]>();
  const addReading = (service: string, at: number, value: number): void => {
    let readings = readingsOf.get(service);
    if (readings === undefined) readingsOf.set(service, (readings = []));
    readings.push({ at, value });
  };
  for (const sample of [...observer.rssSamples, ...observer.otherRssSamples])
    addReading(sample.service, sample.at, sample.rssMb);
  // The reading that crossed a cap may fall between samples: it is a reading too.
  for (const event of observer.memoryExceeded) addReading(event.service, event.at, event.rssMb);
  const memoryServices = new Set([...readingsOf.keys(), ...Object.keys(caps)]);
  // The high-water marks say what the buffer held between two samples, and when.
  const samples = observer.bufferSamples;
  return buildSeries({
    startedAt: state.started,
    endedAt: state.clock.now(),
    streams,
    buffer: {
      unit: "bytes",
      held: samples.flatMap((sample) => [
        { at: sample.at, value: sample.bytes },
        { at: sample.highWaterBytesAt, value: sample.highWaterBytes },
      ]),
      buffers: samples.flatMap((sample) => [
        { at: sample.at, value: sample.buffers },
        { at: sample.highWaterBuffersAt, value: sample.highWaterBuffers },
      ]),
      bound: limits.maxBufferBytes,
      buffersBound: limits.maxBuffers,
    },
    memory: [...memoryServices].map((service) => ({
      service,
      capMb: capMb(service) ?? null,
      readingsMb: readingsOf.get(service) ?? [],
    })),
    health: observer.healthSamples,
    faults: seriesFaults(state.steps, experiment.method),
    published: observer.publishedConfigs,
    maxRemovedPairShare: limits.maxRemovedPairShare,
    decisions: observer.configDecisions(),
    events: topology.events(),
  });
}

/**
 * Settles the ledger and checks the invariants. `capMb` is the memory cap the run's abort
 * conditions read, charted in the series: the reference pipeline's unless a target plays it.
 */
export async function settleVerdict(
  state: RunState,
  capMb: MemoryCap = (service) => referenceMemoryCapMb(state.experiment, service),
): Promise<Verdict> {
  const { topology, workload, observer, jobs } = state.running();
  const { experiment, limits, clock } = state;
  const services = topology.services.map((service) => ({
    name: service.name,
    component: service.component,
    url: service.url(),
  }));
  const deliveries = await collectDeliveries(topology.net, services);
  const streams = ledgerStreams(workload.record);
  const graceMs = ledgerGraceMs(limits);
  // The ground truth is the harness's own record of the job changes it asked for.
  const spans = jobs.spans();
  const jobTimeline = await crossCheckJobs(state, jobs, spans, graceMs, async () => {
    return (await collectJobs(topology.net, serviceRunning(services, "config"))).spans;
  });
  const drops = observer.declaredDrops();
  const owed: OwedStream[] = [];
  const settledStreams: SettledStream[] = [];
  const ledger = computeLedger({
    streams,
    deliveries,
    drops,
    jobs: spans,
    graceMs,
    // Lost events left the pipeline silently once it drained; until then they may be inside.
    onStream: (stream, settled) => {
      const { expected, lost } = settled;
      owed.push({ stream, owed: state.drained ? expected.difference(lost) : expected });
      settledStreams.push(settledStream(stream, settled));
    },
  });
  state.series = referenceSeries(state, settledStreams, capMb);
  const recovery = judgeRecovery(state, backlogReadings(observer, owed, deliveries, drops));
  /** The ledger of the events produced within [from, to] only. */
  const ledgerWithin = (from: number, to: number) =>
    computeLedger({
      streams: withinWindow(streams, from, to),
      deliveries,
      drops,
      jobs: spans,
      graceMs,
    });
  const windowEnd = state.lastHealAt ?? clock.now();
  const windowLedger =
    state.firstFaultAt === null ? null : ledgerWithin(state.firstFaultAt, windowEnd);
  const maxBytes = Math.max(0, ...observer.bufferSamples.map((sample) => sample.highWaterBytes));
  const maxBuffers = Math.max(
    0,
    ...observer.bufferSamples.map((sample) => sample.highWaterBuffers),
  );
  const observations: Observations = {
    startedAt: state.started,
    ledger,
    drained: state.drained,
    unreadableDrops: observer.unreadable(),
    indeterminateShareMax: experiment.verdict.indeterminateShareMax,
    buffer: {
      service: firstOf(topology, "buffer").name,
      samples: observer.bufferSamples,
      bounds: {
        maxBufferBytes: limits.maxBufferBytes,
        maxTenantBytes: limits.maxTenantBytes,
        maxBuffers: limits.maxBuffers,
        maxMemoryMb: experiment.topology.maxBufferMemoryMb,
      },
    },
    memoryExceeded: observer.memoryExceeded,
    configSeen: configEvidence({
      published: observer.publishedConfigs,
      graceMs,
      until: workload.record.stoppedAt ?? clock.now(),
      maxRemovedPairShare: limits.maxRemovedPairShare,
      bufferSamples: observer.bufferSamples,
      pairsWithJob: jobs.pairsEverEnabled(),
      ledgerWithin: (from, to) => {
        const { expected, lost } = ledgerWithin(from, to).totals;
        return { expected, lost };
      },
    }),
    configDecisions: observer.configDecisions(),
    recovery: {
      lastHealAt: state.lastHealAt,
      recoveredAt: recovery.recoveredAt,
      boundMs: experiment.recoveryBound,
      observedUntil: clock.now(),
      ...(recovery.backlog === undefined ? {} : { backlog: recovery.backlog }),
    },
  };
  const results = checkInvariants(observations, experiment.invariants);
  const stats = workload.stats();
  return {
    invariants: Object.fromEntries(results.map((result) => [result.name, result])),
    ledger: ledger.totals,
    ledgerByTenant: ledger.tenants,
    jobTimeline,
    incidentWindow:
      windowLedger === null
        ? null
        : {
            fromMs: state.firstFaultAt! - state.started,
            toMs: windowEnd - state.started,
            ledger: windowLedger.totals,
            silentLossShare: share(windowLedger.totals.lost, windowLedger.totals.expected),
          },
    figures: {
      produced: stats.produced,
      acknowledged: stats.acked,
      deliveredShare: share(ledger.totals.delivered, ledger.totals.expected),
      silentLossShare: share(ledger.totals.lost, ledger.totals.expected),
      bufferHighWaterBytes: maxBytes,
      bufferHighWaterBuffers: maxBuffers,
      bufferBoundBytes: limits.maxBufferBytes,
      bufferBoundBuffers: limits.maxBuffers,
      eventsPerSecond: share(stats.produced, experiment.duration / 1000),
    },
  };
}
