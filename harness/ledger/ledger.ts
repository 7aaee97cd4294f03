// The exact ledger (DESIGN.md §5): from what the workload had acknowledged, what every sink
// received, what components declared dropped and the ground-truth job timeline, it puts every
// event of every stream in one category, per tenant and in total. Streams are interval sets, so
// millions of events cost kilobytes.

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
  /** Seqs seqFrom..seqTo were produced between firstAt and lastAt. */
  runs: Array<{ seqFrom: number; seqTo: number; firstAt: number; lastAt: number }>;
}

export interface LedgerDelivery {
  /** `<sink service>/<path>`, the same form as a job's destination. */
  destination: string;
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
}

export interface LedgerInput {
  streams: Iterable<LedgerStream>;
  deliveries: Iterable<LedgerDelivery>;
  drops: Iterable<DropRecord>;
  jobs: JobSpan[];
  /** Events produced within this many ms of a job change for their pair are indeterminate. */
  graceMs: number;
}

export const CATEGORIES = [
  "produced",
  "expected",
  "delivered",
  "duplicated",
  "declared",
  "lost",
  "misdelivered",
  "unexpected",
  "rejected",
  "indeterminate",
  "deliveredWithoutJob",
] as const;
export type Category = (typeof CATEGORIES)[number];
export type Counts = Record<Category, number>;

export interface LedgerReport {
  totals: Counts;
  tenants: Record<string, Counts>;
  /** The first few lost events, for evidence. */
  lostSamples: EventId[];
  misdeliveredSamples: Array<EventId & { destination: string }>;
}

const SAMPLE_LIMIT = 10;

export function zeroCounts(): Counts {
  return Object.fromEntries(CATEGORIES.map((category) => [category, 0])) as Counts;
}

function addRanges(target: IntervalSet, streams: StreamRanges): void {
  for (const [from, to] of streams.ranges) target.addRange(from, to);
}

interface Coverage {
  expected: IntervalSet;
  indeterminate: IntervalSet;
}

/** Splits a stream's produced seqs into expected / indeterminate by the job spans of its pair. */
function coverage(stream: LedgerStream, spans: JobSpan[], graceMs: number): Coverage {
  const expected = new IntervalSet();
  const indeterminate = new IntervalSet();
  for (const run of stream.runs) {
    let covered = false;
    let nearChange = false;
    for (const span of spans) {
      const end = span.to ?? Number.POSITIVE_INFINITY;
      if (span.from <= run.firstAt && run.lastAt <= end) covered = true;
      if (
        Math.abs(run.firstAt - span.from) <= graceMs ||
        Math.abs(run.lastAt - span.from) <= graceMs
      )
        nearChange = true;
      if (
        span.to !== null &&
        (Math.abs(run.firstAt - span.to) <= graceMs || Math.abs(run.lastAt - span.to) <= graceMs)
      )
        nearChange = true;
      if (span.from > run.firstAt && span.from <= run.lastAt) nearChange = true;
      if (span.to !== null && span.to >= run.firstAt && span.to < run.lastAt) nearChange = true;
    }
    if (nearChange) indeterminate.addRange(run.seqFrom, run.seqTo);
    else if (covered) expected.addRange(run.seqFrom, run.seqTo);
  }
  return { expected, indeterminate };
}

export function computeLedger(input: LedgerInput): LedgerReport {
  const spansByPair = new Map<string, JobSpan[]>();
  const pairOfDestination = new Map<string, string>();
  for (const span of input.jobs) {
    const key = pairKey(span.tenant, span.dataset);
    spansByPair.set(key, [...(spansByPair.get(key) ?? []), span]);
    pairOfDestination.set(span.destination, key);
  }

  // Deliveries per stream: at the stream's own destination (first copies + duplicates) or elsewhere.
  const own = new Map<string, IntervalSet>();
  const anywhere = new Map<string, IntervalSet>();
  const duplicates = new Map<string, number>();
  const misdelivered = new Map<string, number>();
  const corruptByTenant = new Map<string, number>();
  const misdeliveredSamples: LedgerReport["misdeliveredSamples"] = [];
  for (const delivery of input.deliveries) {
    for (const streams of delivery.corrupt ?? []) {
      let count = 0;
      for (const [from, to] of streams.ranges) count += to - from + 1;
      corruptByTenant.set(streams.tenant, (corruptByTenant.get(streams.tenant) ?? 0) + count);
    }
    for (const streams of delivery.streams) {
      const key = streamKey(streams);
      let seenAnywhere = anywhere.get(key);
      if (seenAnywhere === undefined) anywhere.set(key, (seenAnywhere = new IntervalSet()));
      addRanges(seenAnywhere, streams);
      if (
        pairOfDestination.get(delivery.destination) !== pairKey(streams.tenant, streams.dataset)
      ) {
        let count = 0;
        for (const [from, to] of streams.ranges) {
          count += to - from + 1;
          if (misdeliveredSamples.length < SAMPLE_LIMIT) {
            misdeliveredSamples.push({ ...streams, seq: from, destination: delivery.destination });
          }
        }
        misdelivered.set(key, (misdelivered.get(key) ?? 0) + count);
        continue;
      }
      let seen = own.get(key);
      if (seen === undefined) own.set(key, (seen = new IntervalSet()));
      let repeated = 0;
      for (const [from, to] of streams.ranges) {
        repeated += seen.countWithin(from, to);
        seen.addRange(from, to);
      }
      if (repeated > 0) duplicates.set(key, (duplicates.get(key) ?? 0) + repeated);
    }
  }

  const declared = new Map<string, IntervalSet>();
  for (const drop of input.drops) {
    for (const streams of drop.streams) {
      const key = streamKey(streams);
      let set = declared.get(key);
      if (set === undefined) declared.set(key, (set = new IntervalSet()));
      addRanges(set, streams);
    }
  }

  const totals = zeroCounts();
  const tenants: Record<string, Counts> = {};
  const lostSamples: EventId[] = [];
  const countsOf = (tenant: string): Counts => (tenants[tenant] ??= zeroCounts());
  const add = (tenant: string, category: Category, count: number): void => {
    if (count === 0) return;
    countsOf(tenant)[category] += count;
    totals[category] += count;
  };

  const producedStreams = new Set<string>();
  for (const stream of input.streams) {
    const key = streamKey(stream);
    producedStreams.add(key);
    const tenant = stream.tenant;
    countsOf(tenant);
    const { expected, indeterminate } = coverage(
      stream,
      spansByPair.get(pairKey(tenant, stream.dataset)) ?? [],
      input.graceMs,
    );
    const expectedAcked = expected.intersection(stream.acked);
    const delivered = own.get(key) ?? new IntervalSet();
    const deliveredAnywhere = anywhere.get(key) ?? new IntervalSet();
    const missing = expectedAcked.difference(delivered);
    const declaredMissing = missing.intersection(declared.get(key) ?? new IntervalSet());
    const lost = missing.difference(declaredMissing);
    const unsettled = indeterminate
      .intersection(stream.produced)
      .union(stream.unknown.difference(indeterminate));

    add(tenant, "produced", stream.produced.size);
    add(tenant, "expected", expectedAcked.size);
    add(tenant, "delivered", expectedAcked.size - missing.size);
    add(tenant, "duplicated", duplicates.get(key) ?? 0);
    add(tenant, "declared", declaredMissing.size);
    add(tenant, "lost", lost.size);
    add(tenant, "misdelivered", misdelivered.get(key) ?? 0);
    add(tenant, "unexpected", deliveredAnywhere.difference(stream.produced).size);
    add(tenant, "rejected", stream.rejected.size);
    add(tenant, "indeterminate", unsettled.size);
    // Delivered although no job covered the event when it was produced (and not near a change).
    add(
      tenant,
      "deliveredWithoutJob",
      deliveredAnywhere.intersection(stream.produced).difference(expected).difference(indeterminate)
        .size,
    );
    for (const seq of lost.first(SAMPLE_LIMIT - lostSamples.length)) {
      lostSamples.push({ tenant, dataset: stream.dataset, producer: stream.producer, seq });
    }
  }
  // Deliveries of streams nobody produced, and payloads that did not match their identity.
  for (const [key, set] of anywhere) {
    if (producedStreams.has(key)) continue;
    add(key.split("/")[0]!, "unexpected", set.size);
  }
  for (const [tenant, count] of corruptByTenant) add(tenant, "unexpected", count);

  return { totals, tenants, lostSamples, misdeliveredSamples };
}

/** Job spans from the config service's job changes (initial jobs carry at = 0). */
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
    if (change.enabled && current === undefined) {
      const span: JobSpan = {
        tenant: change.tenant,
        dataset: change.dataset,
        destination: change.destination,
        from: change.at,
        to: null,
      };
      open.set(key, span);
      spans.push(span);
    } else if (!change.enabled && current !== undefined) {
      current.to = change.at;
      open.delete(key);
    }
  }
  return spans;
}
