// The ledger's rules, one event at a time: a naive reference for computeLedger. It enumerates
// every seq of every set and every copy of every delivery into plain Maps and Sets, so it is
// slow and obviously right; the property tests hold computeLedger equal to it, per tenant and
// in total. Only for small inputs (tests): memory and time grow with the number of events.
//
// For each produced event (stream in input order, seq ascending):
//   its production time is the run that lists it (none: indeterminate);
//   it is near a change when a job span of its pair starts or ends within
//     [firstAt - graceMs, lastAt + graceMs], or an unsettled stretch of a span (a change asked
//     for, not yet confirmed) meets that window; covered when a span holds all of [firstAt, lastAt];
//   rejected            if its seq is in `rejected`;
//   else indeterminate  if it is near a change, has no run, or is not in `acked`;
//   else expected       if covered, then delivered (a copy at a destination of one of its
//                       pair's spans), else declared (a drop record that declares), else lost;
//   else unconfigured.
// For each copy a sink holds: at one of its pair's destinations it is the first or a
// duplicate; anywhere else it is misdelivered. A delivered (stream, seq) never produced is
// unexpected once; a corrupt copy is unexpected each time. A produced event with a copy
// anywhere, timed, neither covered nor near a change, was delivered without a job.

import type { EventId } from "../../pipeline/core/event.ts";
import type { IntervalSet } from "./interval-set.ts";
import {
  isDeclaration,
  SAMPLE_LIMIT,
  zeroCounts,
  type Category,
  type Counts,
  type JobSpan,
  type LedgerInput,
  type LedgerReport,
  type LedgerStream,
} from "./ledger.ts";

function elements(set: IntervalSet): number[] {
  const seqs: number[] = [];
  set.forEachRange((from, to) => {
    for (let seq = from; seq <= to; seq++) seqs.push(seq);
  });
  return seqs;
}

const eventKey = (tenant: string, dataset: string, producer: string, seq: number): string =>
  JSON.stringify([tenant, dataset, producer, seq]);

type Coverage = "covered" | "uncovered" | "near" | "untimed";

function coverageOf(
  stream: LedgerStream,
  seq: number,
  spans: readonly JobSpan[],
  graceMs: number,
): Coverage {
  const run = stream.runs.find((candidate) => candidate.seqFrom <= seq && seq <= candidate.seqTo);
  if (run === undefined) return "untimed";
  const changes = spans.flatMap((span) => (span.to === null ? [span.from] : [span.from, span.to]));
  if (changes.some((at) => run.firstAt - graceMs <= at && at <= run.lastAt + graceMs)) {
    return "near";
  }
  // A change asked for and not yet confirmed: every instant of it counts as a change.
  const unsettled = spans.flatMap((span) => span.unsettled ?? []);
  if (
    unsettled.some(([from, to]) => !(to + graceMs < run.firstAt || run.lastAt < from - graceMs))
  ) {
    return "near";
  }
  const covering = spans.some(
    (span) => span.from <= run.firstAt && (span.to === null || run.lastAt <= span.to),
  );
  return covering ? "covered" : "uncovered";
}

export function referenceLedger(input: LedgerInput): LedgerReport {
  const totals = zeroCounts();
  const tenants: Record<string, Counts> = {};
  const count = (tenant: string, category: Category): void => {
    (tenants[tenant] ??= zeroCounts())[category] += 1;
    totals[category] += 1;
  };
  const spansOf = (tenant: string, dataset: string): JobSpan[] =>
    input.jobs.filter((span) => span.tenant === tenant && span.dataset === dataset);

  const ownCopies = new Map<string, number>();
  const anyCopy = new Map<string, EventId>();
  const misdeliveredSamples: LedgerReport["misdeliveredSamples"] = [];
  for (const delivery of input.deliveries) {
    for (const corrupt of delivery.corrupt ?? []) {
      for (const [from, to] of corrupt.ranges) {
        for (let seq = from; seq <= to; seq++) count(corrupt.tenant, "unexpected");
      }
    }
    for (const { tenant, dataset, producer, ranges } of delivery.streams) {
      const own = spansOf(tenant, dataset).some(
        (span) => span.destination === delivery.destination,
      );
      for (const [from, to] of ranges) {
        for (let seq = from; seq <= to; seq++) {
          const key = eventKey(tenant, dataset, producer, seq);
          anyCopy.set(key, { tenant, dataset, producer, seq });
          if (own) {
            const copies = (ownCopies.get(key) ?? 0) + 1;
            ownCopies.set(key, copies);
            if (copies > 1) count(tenant, "duplicated");
            continue;
          }
          count(tenant, "misdelivered");
          if (misdeliveredSamples.length < SAMPLE_LIMIT) {
            misdeliveredSamples.push({
              tenant,
              dataset,
              producer,
              seq,
              destination: delivery.destination,
            });
          }
        }
      }
    }
  }

  const declared = new Set<string>();
  for (const drop of input.drops) {
    if (!isDeclaration(drop)) continue;
    for (const { tenant, dataset, producer, ranges } of drop.streams) {
      for (const [from, to] of ranges) {
        for (let seq = from; seq <= to; seq++)
          declared.add(eventKey(tenant, dataset, producer, seq));
      }
    }
  }

  const producedEvents = new Set<string>();
  const lostSamples: EventId[] = [];
  const deliveredWithoutJobSamples: EventId[] = [];
  for (const stream of input.streams) {
    const { tenant, dataset, producer } = stream;
    tenants[tenant] ??= zeroCounts();
    const spans = spansOf(tenant, dataset);
    const acked = new Set(elements(stream.acked));
    const rejected = new Set(elements(stream.rejected));
    for (const seq of elements(stream.produced)) {
      const key = eventKey(tenant, dataset, producer, seq);
      const id: EventId = { tenant, dataset, producer, seq };
      producedEvents.add(key);
      count(tenant, "produced");
      const coverage = coverageOf(stream, seq, spans, input.graceMs);
      if (coverage === "uncovered" && anyCopy.has(key)) {
        count(tenant, "deliveredWithoutJob");
        if (deliveredWithoutJobSamples.length < SAMPLE_LIMIT) deliveredWithoutJobSamples.push(id);
      }
      if (rejected.has(seq)) count(tenant, "rejected");
      else if (!acked.has(seq) || coverage === "near" || coverage === "untimed") {
        count(tenant, "indeterminate");
      } else if (coverage === "uncovered") count(tenant, "unconfigured");
      else {
        count(tenant, "expected");
        if ((ownCopies.get(key) ?? 0) > 0) count(tenant, "delivered");
        else if (declared.has(key)) count(tenant, "declared");
        else {
          count(tenant, "lost");
          if (lostSamples.length < SAMPLE_LIMIT) lostSamples.push(id);
        }
      }
    }
  }
  for (const [key, id] of anyCopy) {
    if (!producedEvents.has(key)) count(id.tenant, "unexpected");
  }
  return { totals, tenants, lostSamples, misdeliveredSamples, deliveredWithoutJobSamples };
}
