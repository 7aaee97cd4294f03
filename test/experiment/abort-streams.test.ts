// The silent-loss reading's streams, kept across readings (harness/experiment/abort-streams.ts),
// give the ledger what the plain computation gives it: over generated workloads — events
// produced in timed runs, settled in any order, some stretching their runs — read again and
// again as time moves on, under jobs that change between readings, the ledger comes out the
// same as over withinWindow(ledgerStreams(record), -Infinity, before) rebuilt each time.

import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { ProducedBefore } from "../../harness/experiment/abort-streams.ts";
import { ledgerStreams, withinWindow } from "../../harness/experiment/ledger-input.ts";
import { computeLedger, type LedgerInput } from "../../harness/ledger/ledger.ts";
import { WorkloadRecord } from "../../harness/workload/record.ts";
import { Timeline } from "../../harness/workload/timeline.ts";
import { historyArb } from "../ledger/histories.ts";

const STREAMS = [
  ["a", "http", "p0"],
  ["a", "dns", "p1"],
  ["b", "http", "p0"],
  ["c", "dns", "p0"],
] as const;

const stepArb = fc.oneof(
  fc.record({
    kind: fc.constant("produce" as const),
    stream: fc.nat(),
    count: fc.integer({ min: 1, max: 4 }),
    afterMs: fc.nat(12),
  }),
  fc.record({
    kind: fc.constant("settle" as const),
    stream: fc.nat(),
    outcome: fc.constantFrom("acked", "acked", "acked", "rejected", "unknown"),
    /** Which of the unsettled seqs, and how many from there. */
    pick: fc.nat(),
    count: fc.integer({ min: 1, max: 6 }),
    /** Settled with its time, as a batch retried until now: its runs stretch to now. */
    stretches: fc.boolean(),
    afterMs: fc.nat(12),
  }),
  fc.record({
    kind: fc.constant("read" as const),
    /**
     * Mostly one age, as one condition reads; sometimes another, whose `before` goes back. An
     * age below runMs reaches the last run while it may still grow.
     */
    olderThanMs: fc.constantFrom(40, 40, 0, 0, 100),
    /** Which of the job histories holds at this reading. */
    jobs: fc.nat(2),
    afterMs: fc.nat(12),
  }),
);

const scenarioArb = fc.record({
  steps: fc.array(stepArb, { minLength: 20, maxLength: 120, size: "max" }),
  runMs: fc.integer({ min: 1, max: 60 }),
  /** Jobs, deliveries and drops over the same tenants, datasets and times. */
  histories: fc.tuple(historyArb, historyArb, historyArb),
});

describe("the silent-loss reading's streams, kept across readings", () => {
  test.prop([scenarioArb], { numRuns: 300 })(
    "settle the ledger exactly as the streams rebuilt at each reading",
    ({ steps, runMs, histories }) => {
      const record = new WorkloadRecord(["a", "b", "c"], new Timeline(0, 1_000));
      const produced = new ProducedBefore();
      const streams = STREAMS.map(([tenant, dataset, producer]) => ({ tenant, dataset, producer }));
      let now = 0;
      for (const step of steps) {
        now += step.afterMs;
        if (step.kind !== "read") {
          const { tenant, dataset, producer } = streams[step.stream % streams.length]!;
          if (step.kind === "produce") {
            record.streamFor(tenant, dataset, producer).produce(step.count, now, runMs);
            continue;
          }
          const stream = record.stream(tenant, dataset, producer);
          const unsettled = stream?.inFlight().toJSON() ?? [];
          const range = unsettled[step.pick % Math.max(1, unsettled.length)];
          if (range === undefined) continue;
          const from = range[0] + (step.pick % (range[1] - range[0] + 1));
          const to = Math.min(range[1], from + step.count - 1);
          stream!.settle(step.outcome, from, to, step.stretches ? now : undefined);
          continue;
        }
        const { jobs, graceMs, deliveries, drops } = histories[step.jobs]!;
        const before = now - step.olderThanMs;
        const ledger = (input: LedgerInput["streams"]) =>
          computeLedger({ streams: input, deliveries, drops, jobs, graceMs });
        const kept = ledger(produced.streams(record, jobs, graceMs, before));
        const rebuilt = ledger(
          withinWindow(ledgerStreams(record), Number.NEGATIVE_INFINITY, before),
        );
        expect(kept).toEqual(rebuilt);
      }
    },
  );

  it("keeps a stream's last run open: settled and old enough, it still grows", () => {
    const record = new WorkloadRecord(["a"], new Timeline(0, 1_000));
    const stream = record.streamFor("a", "http", "p0");
    const jobs = [{ tenant: "a", dataset: "http", destination: "s0/a.http", from: 0, to: null }];
    const produced = new ProducedBefore();
    const readAt = (before: number) =>
      computeLedger({
        streams: produced.streams(record, jobs, 0, before),
        deliveries: [],
        drops: [],
        jobs,
        graceMs: 0,
      }).totals;
    // Acknowledged under a job since 0, delivered nowhere: lost once read.
    stream.produce(2, 500, 100);
    stream.settle("acked", 0, 1);
    expect(readAt(510)).toMatchObject({ produced: 2, lost: 2 });
    // Within the run's 100 ms: the same run, now seqs 0..3, produced until 520.
    stream.produce(2, 520, 100);
    stream.settle("acked", 2, 3);
    expect(stream.runCount).toBe(1);
    expect(readAt(530)).toMatchObject({ produced: 4, lost: 4 });
  });
});
