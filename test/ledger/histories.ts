// fast-check arbitraries for delivery histories: a few tenants, datasets and producers, short
// streams whose events were acked, rejected, left unknown or never settled, produced in timed
// runs; job changes that enable, disable and move pairs between sinks; sink records at right
// and wrong destinations with repeats and never-produced seqs; drops that declare and drops
// that only say "unconfigured". Small domains, so that every rule meets every other often.

import { fc } from "@fast-check/vitest";
import { IntervalSet } from "../../harness/ledger/interval-set.ts";
import {
  jobSpans,
  type LedgerDelivery,
  type LedgerInput,
  type LedgerStream,
} from "../../harness/ledger/ledger.ts";
import type { DropRecord, StreamRanges } from "../../pipeline/core/drops.ts";

const TENANTS = ["a", "b", "c"] as const;
const DATASETS = ["http", "dns"] as const;
const PRODUCERS = ["p0", "p1"] as const;
const SINKS = ["s0", "s1"] as const;
/** Seqs beyond the longest stream, so that deliveries and drops reach never-produced seqs. */
const SEQ_DOMAIN = 30;
const TIME_DOMAIN = 200;

const tenantArb = fc.constantFrom(...TENANTS);
const datasetArb = fc.constantFrom(...DATASETS);
const producerArb = fc.constantFrom(...PRODUCERS);

/** Every pair's own destination on either sink, and one destination two pairs might share. */
const destinationArb = fc.oneof(
  fc
    .tuple(fc.constantFrom(...SINKS), tenantArb, datasetArb)
    .map(([sink, tenant, dataset]) => `${sink}/${tenant}.${dataset}`),
  fc.constant("s0/shared"),
);

const outcomeArb = fc.constantFrom(
  "acked",
  "acked",
  "acked",
  "acked",
  "rejected",
  "unknown",
  "none",
);

const streamArb: fc.Arbitrary<LedgerStream> = fc
  .record({
    tenant: tenantArb,
    dataset: datasetArb,
    producer: producerArb,
    outcomes: fc.array(outcomeArb, { maxLength: 24 }),
    runLengths: fc.array(fc.integer({ min: 1, max: 6 }), { maxLength: 8 }),
    runTimes: fc.array(fc.tuple(fc.nat(TIME_DOMAIN), fc.nat(30)), { minLength: 8, maxLength: 8 }),
    /** Most histories time every seq; some leave the tail untimed, some time seqs never produced. */
    timing: fc.constantFrom("exact", "exact", "exact", "short", "long"),
  })
  .map(({ tenant, dataset, producer, outcomes, runLengths, runTimes, timing }) => {
    const produced = outcomes.length;
    const sets = {
      acked: new IntervalSet(),
      rejected: new IntervalSet(),
      unknown: new IntervalSet(),
    };
    outcomes.forEach((outcome, seq) => {
      if (outcome !== "none") sets[outcome].add(seq);
    });
    const timedUpTo =
      timing === "exact" ? produced : timing === "short" ? Math.floor(produced / 2) : produced + 3;
    const runs: LedgerStream["runs"] = [];
    let seqFrom = 0;
    runTimes.forEach(([firstAt, length], index) => {
      const left = timedUpTo - seqFrom;
      if (left <= 0) return;
      const runLength = index === runTimes.length - 1 ? left : (runLengths[index] ?? left);
      const seqTo = seqFrom + Math.min(left, runLength) - 1;
      runs.push({ seqFrom, seqTo, firstAt, lastAt: firstAt + length });
      seqFrom = seqTo + 1;
    });
    return {
      tenant,
      dataset,
      producer,
      produced: IntervalSet.range(0, produced - 1),
      ...sets,
      runs,
    };
  });

/** Streams with distinct identities. */
const streamsArb = fc.uniqueArray(streamArb, {
  maxLength: 6,
  selector: (stream) => `${stream.tenant}/${stream.dataset}/${stream.producer}`,
});

const jobChangeArb = fc.record({
  at: fc.nat(TIME_DOMAIN),
  tenant: tenantArb,
  dataset: datasetArb,
  destination: destinationArb,
  enabled: fc.boolean(),
});

const rangesArb = fc.array(
  fc
    .tuple(fc.nat(SEQ_DOMAIN), fc.nat(8))
    .map(([from, length]): [number, number] => [from, from + length]),
  { minLength: 1, maxLength: 3 },
);

const streamRangesArb: fc.Arbitrary<StreamRanges> = fc.record({
  tenant: tenantArb,
  dataset: datasetArb,
  producer: producerArb,
  ranges: rangesArb,
});

/** Most records go to their first stream's own destination on s0, as a pusher sends them. */
const OWN_DESTINATION = "own";
const deliveryArb: fc.Arbitrary<LedgerDelivery> = fc.record(
  {
    destination: fc.oneof({ weight: 3, arbitrary: fc.constant(OWN_DESTINATION) }, destinationArb),
    streams: fc.array(streamRangesArb, { minLength: 1, maxLength: 2 }),
    corrupt: fc.array(streamRangesArb, { maxLength: 1 }),
  },
  { requiredKeys: ["destination", "streams"] },
);

const dropArb: fc.Arbitrary<DropRecord> = fc
  .record({
    reason: fc.constantFrom(
      "destination s0/a.http refused the batch: 400",
      "unconfigured",
      "unconfigured: no job for a/http",
      "buffer full: unconfigured tenants shed",
    ),
    streams: fc.array(streamRangesArb, { minLength: 1, maxLength: 2 }),
  })
  .map(({ reason, streams }) => ({
    id: 0,
    at: 0,
    component: "pusher",
    reason,
    count: streams.reduce(
      (sum, stream) => sum + stream.ranges.reduce((n, [from, to]) => n + to - from + 1, 0),
      0,
    ),
    streams,
  }));

/** Jobs that exist from the start, as a topology's settings create them. */
const initialJobs = TENANTS.flatMap((tenant) =>
  DATASETS.map((dataset) => ({
    at: 0,
    tenant,
    dataset,
    destination: `s0/${tenant}.${dataset}`,
    enabled: true,
  })),
);

/** Spans straight from the generator: they may overlap, which jobSpans never produces. */
const rawSpansArb = fc.array(
  fc.record({
    tenant: tenantArb,
    dataset: datasetArb,
    destination: destinationArb,
    from: fc.nat(TIME_DOMAIN),
    length: fc.option(fc.nat(TIME_DOMAIN)),
    // Changes asked for and confirmed later, or never (Infinity), as the harness records them.
    unsettled: fc.array(
      fc
        .tuple(fc.nat(TIME_DOMAIN), fc.option(fc.nat(TIME_DOMAIN)))
        .map(([from, length]): [number, number] => [
          from,
          length === null ? Number.POSITIVE_INFINITY : from + length,
        ]),
      { maxLength: 2 },
    ),
  }),
  { maxLength: 6 },
);

export const historyArb: fc.Arbitrary<LedgerInput> = fc
  .record({
    streams: streamsArb,
    jobs: fc.oneof(
      {
        weight: 3,
        arbitrary: fc
          .tuple(
            fc.subarray(initialJobs, { minLength: 4 }),
            fc.array(jobChangeArb, { maxLength: 4 }),
          )
          .map(([initial, changes]) => jobSpans([...initial, ...changes])),
      },
      {
        weight: 1,
        arbitrary: rawSpansArb.map((spans) =>
          spans.map(({ length, unsettled, ...span }) => ({
            ...span,
            to: length === null ? null : span.from + length,
            ...(unsettled.length === 0 ? {} : { unsettled }),
          })),
        ),
      },
    ),
    deliveries: fc.array(deliveryArb, { maxLength: 16 }),
    drops: fc.array(dropArb, { maxLength: 5 }),
    graceMs: fc.nat(15),
  })
  .map(({ streams, jobs, deliveries, drops, graceMs }) => {
    // Most ranges in records and drops name a stream that was produced.
    const retarget = (ranges: StreamRanges, index: number): StreamRanges => {
      const stream = streams[(index * 7 + ranges.ranges[0]![0]) % (streams.length + 1)];
      if (stream === undefined) return ranges;
      const { tenant, dataset, producer } = stream;
      return { tenant, dataset, producer, ranges: ranges.ranges };
    };
    return {
      streams,
      deliveries: deliveries.map((delivery) => {
        const retargeted = delivery.streams.map(retarget);
        const first = retargeted[0];
        return {
          ...delivery,
          streams: retargeted,
          destination:
            delivery.destination === OWN_DESTINATION && first !== undefined
              ? `s0/${first.tenant}.${first.dataset}`
              : delivery.destination,
        };
      }),
      drops: drops.map((drop) => ({ ...drop, streams: drop.streams.map(retarget) })),
      jobs,
      graceMs,
    };
  });
