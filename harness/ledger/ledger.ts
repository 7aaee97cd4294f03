// The exact ledger (docs/architecture.md §5): from what the workload had acknowledged, what every
// sink received, what components declared dropped and the ground-truth job timeline, it puts every
// produced event in exactly one class, per tenant and in total:
//
//   produced = expected + rejected + indeterminate + unconfigured
//   expected = delivered + declared + lost
//
// and counts what the sinks hold that they should not (duplicated, misdelivered, unexpected,
// deliveredWithoutJob). Streams are interval sets and every step works on ranges, never on
// single events, so millions of events cost kilobytes and milliseconds. The rules, event by
// event, are spelled out once more in reference.ts, slowly; the tests hold the two equal.

import type { DropRecord, StreamRanges } from "../../pipeline/core/drops.ts";
import { pairKey, streamKey, type EventId } from "../../pipeline/core/event.ts";
import { IntervalSet } from "./interval-set.ts";

export interface LedgerStream {
  tenant: string;
  dataset: string;
  producer: string;
  produced: IntervalSet;
  acked: IntervalSet;
  rejected: IntervalSet;
  unknown: IntervalSet;
  /** Seqs seqFrom..seqTo were produced between firstAt and lastAt; ascending and disjoint. */
  runs: Array<{ seqFrom: number; seqTo: number; firstAt: number; lastAt: number }>;
}

export interface LedgerDelivery {
  /** `<sink service>/<path>`, the same form as a job's destination. */
  destination: string;
  /** When the sink recorded it (for the backlog over time; the ledger itself ignores it). */
  at?: number;
  streams: StreamRanges[];
  corrupt?: StreamRanges[];
}

/** When a job for a (tenant, dataset) pair was enabled; `to` is null while it still is. */
export interface JobSpan {
  tenant: string;
  dataset: string;
  destination: string;
  from: number;
  to: number | null;
  /**
   * Stretches where a change of the pair's job was asked for but not yet confirmed (to Infinity
   * when no answer came): events produced within grace of them are indeterminate.
   */
  unsettled?: Array<[number, number]>;
}

export interface LedgerInput {
  streams: Iterable<LedgerStream>;
  deliveries: Iterable<LedgerDelivery>;
  drops: Iterable<DropRecord>;
  jobs: JobSpan[];
  /** Events produced within this many ms of a job change for their pair are indeterminate. */
  graceMs: number;
  /** Called once per produced stream with how its events were settled (the backlog, the series). */
  onStream?: (stream: LedgerStream, settled: StreamSettlement) => void;
}

/**
 * One stream's events by class, as the ledger settled them: each produced event is in exactly one
 * of rejected, indeterminate, unconfigured, delivered, declared and lost (the last three make up
 * expected), and the ledger's counts of these classes are these sets' sizes.
 */
export interface StreamSettlement {
  produced: IntervalSet;
  /** Acknowledged at ingress (and not rejected). */
  acknowledged: IntervalSet;
  rejected: IntervalSet;
  expected: IntervalSet;
  delivered: IntervalSet;
  /** Expected, not delivered, declared dropped. */
  declared: IntervalSet;
  lost: IntervalSet;
  /** Acknowledged while no job covered their pair. */
  unconfigured: IntervalSet;
  indeterminate: IntervalSet;
}

export const CATEGORIES = [
  /** Every event the workload produced. */
  "produced",
  /** Acknowledged at ingress and covered by an enabled job, away from any change of it. */
  "expected",
  /** Expected, and at least one copy reached one of its pair's destinations. */
  "delivered",
  /** Copies beyond the first at the stream's own destinations (any seq). */
  "duplicated",
  /** Expected, not delivered, dropped with a reason the customer can see. */
  "declared",
  /** Expected, not delivered, not declared: silent loss. */
  "lost",
  /** Copies that reached a destination not belonging to the event's pair (any seq). */
  "misdelivered",
  /** Distinct events delivered that were never produced, plus every corrupt copy. */
  "unexpected",
  /** Refused at ingress: the producer knows. */
  "rejected",
  /** Outcome unknown or not settled, or produced near a change of its pair's job. */
  "indeterminate",
  /** Acknowledged while no job covered the pair (away from any change): rightly not forwarded. */
  "unconfigured",
  /** Produced events delivered anywhere although no job covered them when produced. */
  "deliveredWithoutJob",
] as const;
export type Category = (typeof CATEGORIES)[number];

/** The categories that are classes of a stream's produced events (StreamSettlement). */
const SETTLED_CATEGORIES = [
  "produced",
  "expected",
  "delivered",
  "declared",
  "lost",
  "rejected",
  "indeterminate",
  "unconfigured",
] as const satisfies ReadonlyArray<Category & keyof StreamSettlement>;
export type Counts = Record<Category, number>;

export interface LedgerReport {
  totals: Counts;
  tenants: Record<string, Counts>;
  /** The first few lost events (streams in input order, seqs ascending), for evidence. */
  lostSamples: EventId[];
  /** The first few misdelivered copies, in delivery order. */
  misdeliveredSamples: Array<EventId & { destination: string }>;
  /** The first few events delivered without a job (streams in input order, seqs ascending). */
  deliveredWithoutJobSamples: EventId[];
}

export const SAMPLE_LIMIT = 10;

/**
 * Filtering an event as unconfigured is not a declaration of loss (docs/architecture.md §5): a drop
 * record whose reason is `unconfigured` (or `unconfigured: ...`) declares nothing, so an event
 * the ground truth expected stays lost.
 */
export function isDeclaration(drop: Pick<DropRecord, "reason">): boolean {
  return drop.reason !== "unconfigured" && !drop.reason.startsWith("unconfigured:");
}

export function zeroCounts(): Counts {
  return Object.fromEntries(CATEGORIES.map((category) => [category, 0])) as Counts;
}

/** A pair's job history: its spans, every instant it changed, and where it was sent. */
interface PairJobs {
  spans: JobSpan[];
  changesAscending: number[];
  unsettled: Array<[number, number]>;
}

function indexJobs(jobs: readonly JobSpan[]): {
  byPair: Map<string, PairJobs>;
  pairsByDestination: Map<string, Set<string>>;
} {
  const byPair = new Map<string, PairJobs>();
  const pairsByDestination = new Map<string, Set<string>>();
  for (const span of jobs) {
    const key = pairKey(span.tenant, span.dataset);
    let pair = byPair.get(key);
    if (pair === undefined)
      byPair.set(key, (pair = { spans: [], changesAscending: [], unsettled: [] }));
    pair.spans.push(span);
    for (const window of span.unsettled ?? []) pair.unsettled.push(window);
    pair.changesAscending.push(span.from);
    if (span.to !== null) pair.changesAscending.push(span.to);
    let pairs = pairsByDestination.get(span.destination);
    if (pairs === undefined) pairsByDestination.set(span.destination, (pairs = new Set()));
    pairs.add(key);
  }
  for (const pair of byPair.values()) pair.changesAscending.sort((a, b) => a - b);
  return { byPair, pairsByDestination };
}

export type Coverage = "covered" | "uncovered" | "near";

/** Whether [firstAt, lastAt] comes within grace of a change asked for and not yet confirmed. */
export function nearUnsettled(
  windows: ReadonlyArray<readonly [number, number]>,
  firstAt: number,
  lastAt: number,
  graceMs: number,
): boolean {
  return windows.some(([from, to]) => from - graceMs <= lastAt && firstAt <= to + graceMs);
}

/** Whether a job covered the pair over all of [firstAt, lastAt], with no change within grace. */
function runCoverage(
  pair: PairJobs | undefined,
  firstAt: number,
  lastAt: number,
  graceMs: number,
): Coverage {
  if (pair === undefined) return "uncovered";
  const changes = pair.changesAscending;
  let low = 0;
  let high = changes.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((changes[middle] as number) < firstAt - graceMs) low = middle + 1;
    else high = middle;
  }
  if (low < changes.length && (changes[low] as number) <= lastAt + graceMs) return "near";
  if (nearUnsettled(pair.unsettled, firstAt, lastAt, graceMs)) return "near";
  for (const span of pair.spans) {
    if (span.from <= firstAt && (span.to === null || lastAt <= span.to)) return "covered";
  }
  return "uncovered";
}

/**
 * The ledger's rule for a production run of a (tenant, dataset) pair under `jobs`, for a caller
 * that classes runs before handing them over (the silent-loss reading, abort-streams.ts).
 */
export function runCoverageUnder(
  jobs: readonly JobSpan[],
  graceMs: number,
): (tenant: string, dataset: string, firstAt: number, lastAt: number) => Coverage {
  const { byPair } = indexJobs(jobs);
  return (tenant, dataset, firstAt, lastAt) =>
    runCoverage(byPair.get(pairKey(tenant, dataset)), firstAt, lastAt, graceMs);
}

/** What the sinks hold of one stream. */
interface Received {
  tenant: string;
  dataset: string;
  producer: string;
  pair: string;
  /** Seqs with at least one copy at one of the pair's destinations. */
  own: IntervalSet;
  /** Seqs with a copy at some other destination (null while there is none). */
  foreign: IntervalSet | null;
  duplicated: number;
  misdelivered: number;
}

/**
 * What the sinks hold, per stream, found without building a key string: the sinks' records
 * name a stream in every entry, and a string per entry is most of the garbage at 10M events.
 */
class ReceivedByStream {
  private readonly byTenant = new Map<string, Map<string, Map<string, Received>>>();
  private readonly all: Received[] = [];

  /** The stream's entry, created on first use. */
  of(stream: { tenant: string; dataset: string; producer: string }): Received {
    let byDataset = this.byTenant.get(stream.tenant);
    if (byDataset === undefined) this.byTenant.set(stream.tenant, (byDataset = new Map()));
    let byProducer = byDataset.get(stream.dataset);
    if (byProducer === undefined) byDataset.set(stream.dataset, (byProducer = new Map()));
    let received = byProducer.get(stream.producer);
    if (received === undefined) {
      received = {
        tenant: stream.tenant,
        dataset: stream.dataset,
        producer: stream.producer,
        pair: pairKey(stream.tenant, stream.dataset),
        own: new IntervalSet(),
        foreign: null,
        duplicated: 0,
        misdelivered: 0,
      };
      byProducer.set(stream.producer, received);
      this.all.push(received);
    }
    return received;
  }

  find(stream: { tenant: string; dataset: string; producer: string }): Received | undefined {
    return this.byTenant.get(stream.tenant)?.get(stream.dataset)?.get(stream.producer);
  }

  /** Every stream the sinks hold, in the order first seen. */
  entries(): readonly Received[] {
    return this.all;
  }
}

interface Tally {
  totals: Counts;
  tenants: Record<string, Counts>;
  add(tenant: string, category: Category, count: number): void;
  touch(tenant: string): void;
}

function newTally(): Tally {
  const totals = zeroCounts();
  const tenants: Record<string, Counts> = {};
  return {
    totals,
    tenants,
    touch(tenant) {
      tenants[tenant] ??= zeroCounts();
    },
    add(tenant, category, count) {
      if (count === 0) return;
      (tenants[tenant] ??= zeroCounts())[category] += count;
      totals[category] += count;
    },
  };
}

function pushSamples(
  samples: EventId[],
  stream: { tenant: string; dataset: string; producer: string },
  seqs: IntervalSet,
): void {
  for (const seq of seqs.first(SAMPLE_LIMIT - samples.length)) {
    samples.push({
      tenant: stream.tenant,
      dataset: stream.dataset,
      producer: stream.producer,
      seq,
    });
  }
}

// The loops over ranges index the tuples instead of destructuring them: destructuring in a
// for-of allocates an iterator per range, which at 10M events is most of the ledger's garbage.
function collectDeliveries(
  deliveries: Iterable<LedgerDelivery>,
  pairsByDestination: Map<string, Set<string>>,
  tally: Tally,
): { byStream: ReceivedByStream; misdeliveredSamples: LedgerReport["misdeliveredSamples"] } {
  const byStream = new ReceivedByStream();
  const misdeliveredSamples: LedgerReport["misdeliveredSamples"] = [];
  for (const delivery of deliveries) {
    if (delivery.corrupt !== undefined) {
      for (const streams of delivery.corrupt) {
        tally.add(streams.tenant, "unexpected", rangeTotal(streams.ranges));
      }
    }
    const pairsHere = pairsByDestination.get(delivery.destination);
    for (const streams of delivery.streams) {
      const received = byStream.of(streams);
      const ranges = streams.ranges;
      if (pairsHere?.has(received.pair) === true) {
        for (let i = 0; i < ranges.length; i++) {
          const range = ranges[i]!;
          received.duplicated += received.own.countWithin(range[0], range[1]);
          received.own.addRange(range[0], range[1]);
        }
        continue;
      }
      const foreign = (received.foreign ??= new IntervalSet());
      for (let i = 0; i < ranges.length; i++) {
        const from = ranges[i]![0];
        const to = ranges[i]![1];
        foreign.addRange(from, to);
        received.misdelivered += to - from + 1;
        for (let seq = from; seq <= to && misdeliveredSamples.length < SAMPLE_LIMIT; seq++) {
          misdeliveredSamples.push({
            tenant: streams.tenant,
            dataset: streams.dataset,
            producer: streams.producer,
            seq,
            destination: delivery.destination,
          });
        }
      }
    }
  }
  return { byStream, misdeliveredSamples };
}

/** How many seqs the ranges hold, counting overlaps as often as they occur. */
export function rangeTotal(ranges: ReadonlyArray<readonly [number, number]>): number {
  let total = 0;
  for (let i = 0; i < ranges.length; i++) total += ranges[i]![1] - ranges[i]![0] + 1;
  return total;
}

function collectDeclarations(drops: Iterable<DropRecord>): Map<string, IntervalSet> {
  const declared = new Map<string, IntervalSet>();
  for (const drop of drops) {
    if (!isDeclaration(drop)) continue;
    for (const streams of drop.streams) {
      const key = streamKey(streams);
      let set = declared.get(key);
      if (set === undefined) declared.set(key, (set = new IntervalSet()));
      const ranges = streams.ranges;
      for (let i = 0; i < ranges.length; i++) set.addRange(ranges[i]![0], ranges[i]![1]);
    }
  }
  return declared;
}

/** Never mutated: stands for "none" without allocating a set per stream. */
const NOTHING = new IntervalSet(1);

/**
 * `set ∩ to`, returning `set` or `to` themselves when one is empty or `to` is a single range
 * holding all of `set` (the usual case: a stream is produced as one dense range). The ledger
 * never mutates the sets it derives, so sharing them is safe and saves a copy per stream.
 */
function restrict(set: IntervalSet, to: IntervalSet): IntervalSet {
  if (set.isEmpty()) return set;
  if (to.isEmpty()) return to;
  if (to.rangeCount === 1 && to.min()! <= set.min()! && set.max()! <= to.max()!) return set;
  return set.intersection(to);
}

/** `set ∖ other`, returning `set` itself when they cannot overlap. */
function without(set: IntervalSet, other: IntervalSet): IntervalSet {
  if (set.isEmpty() || other.isEmpty()) return set;
  if (other.max()! < set.min()! || set.max()! < other.min()!) return set;
  return set.difference(other);
}

/** The produced seqs a job covered, and those no job covered, by production run. */
function coverage(
  stream: LedgerStream,
  pair: PairJobs | undefined,
  graceMs: number,
): { covered: IntervalSet; uncovered: IntervalSet } {
  const covered = new IntervalSet();
  const uncovered = new IntervalSet();
  let previousTo = -1;
  for (const run of stream.runs) {
    if (run.seqFrom <= previousTo || run.seqTo < run.seqFrom || run.lastAt < run.firstAt) {
      throw new RangeError(
        `stream ${streamKey(stream)}: run ${JSON.stringify(run)} is not after the previous one (seq ${previousTo}) or ends before it starts`,
      );
    }
    previousTo = run.seqTo;
    const kind = runCoverage(pair, run.firstAt, run.lastAt, graceMs);
    if (kind === "covered") covered.addRange(run.seqFrom, run.seqTo);
    else if (kind === "uncovered") uncovered.addRange(run.seqFrom, run.seqTo);
  }
  return {
    covered: restrict(covered, stream.produced),
    uncovered: restrict(uncovered, stream.produced),
  };
}

export function computeLedger(input: LedgerInput): LedgerReport {
  if (!Number.isFinite(input.graceMs) || input.graceMs < 0) {
    throw new RangeError(`graceMs is ${input.graceMs}, expected a finite number >= 0`);
  }
  const tally = newTally();
  const { byPair, pairsByDestination } = indexJobs(input.jobs);
  const { byStream, misdeliveredSamples } = collectDeliveries(
    input.deliveries,
    pairsByDestination,
    tally,
  );
  const declared = collectDeclarations(input.drops);
  const lostSamples: EventId[] = [];
  const deliveredWithoutJobSamples: EventId[] = [];
  const producedStreams = new Set<string>();

  for (const stream of input.streams) {
    const key = streamKey(stream);
    if (producedStreams.has(key)) throw new RangeError(`stream ${key} is listed twice`);
    producedStreams.add(key);
    const { tenant, produced } = stream;
    tally.touch(tenant);
    const { covered, uncovered } = coverage(
      stream,
      byPair.get(pairKey(tenant, stream.dataset)),
      input.graceMs,
    );
    const rejected = restrict(stream.rejected, produced);
    const acknowledged = without(restrict(stream.acked, produced), rejected);
    const expected = restrict(acknowledged, covered);
    const unconfigured = restrict(acknowledged, uncovered);
    const indeterminate = without(without(without(produced, rejected), expected), unconfigured);
    const received = byStream.find(stream);
    const own = received?.own ?? NOTHING;
    const anywhere =
      received === undefined || received.foreign === null ? own : own.union(received.foreign);
    const missing = without(expected, own);
    const delivered = without(expected, missing);
    const declaredMissing = restrict(missing, declared.get(key) ?? NOTHING);
    const lost = without(missing, declaredMissing);
    const deliveredWithoutJob = restrict(anywhere, uncovered);
    const settled: StreamSettlement = {
      produced,
      acknowledged,
      rejected,
      expected,
      delivered,
      declared: declaredMissing,
      lost,
      unconfigured,
      indeterminate,
    };

    for (const category of SETTLED_CATEGORIES) tally.add(tenant, category, settled[category].size);
    tally.add(tenant, "unexpected", anywhere.size - restrict(anywhere, produced).size);
    tally.add(tenant, "deliveredWithoutJob", deliveredWithoutJob.size);
    input.onStream?.(stream, settled);
    pushSamples(lostSamples, stream, lost);
    pushSamples(deliveredWithoutJobSamples, stream, deliveredWithoutJob);
  }

  for (const received of byStream.entries()) {
    tally.add(received.tenant, "duplicated", received.duplicated);
    tally.add(received.tenant, "misdelivered", received.misdelivered);
    if (producedStreams.has(streamKey(received))) continue;
    const anywhere =
      received.foreign === null ? received.own : received.own.union(received.foreign);
    tally.add(received.tenant, "unexpected", anywhere.size);
  }

  return {
    totals: tally.totals,
    tenants: tally.tenants,
    lostSamples,
    misdeliveredSamples,
    deliveredWithoutJobSamples,
  };
}

/**
 * Job spans from the config service's job changes (initial jobs carry at = 0). A change that
 * enables a pair already enabled opens a new span only when it moves the pair to another
 * destination.
 */
export function jobSpans(
  changes: Array<{
    at: number;
    tenant: string;
    dataset: string;
    destination: string;
    enabled: boolean;
  }>,
): JobSpan[] {
  const open = new Map<string, JobSpan>();
  const spans: JobSpan[] = [];
  for (const change of [...changes].sort((a, b) => a.at - b.at)) {
    const key = pairKey(change.tenant, change.dataset);
    const current = open.get(key);
    if (current !== undefined && (!change.enabled || change.destination !== current.destination)) {
      current.to = change.at;
      open.delete(key);
    }
    if (change.enabled && open.get(key) === undefined) {
      const span: JobSpan = {
        tenant: change.tenant,
        dataset: change.dataset,
        destination: change.destination,
        from: change.at,
        to: null,
      };
      open.set(key, span);
      spans.push(span);
    }
  }
  return spans;
}
