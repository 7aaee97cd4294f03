// The ledger counts each injected anomaly exactly, per tenant and in total.

import { describe, expect, it } from "vitest";
import { IntervalSet } from "../../harness/ledger/interval-set.ts";
import {
  computeLedger,
  jobSpans,
  type LedgerDelivery,
  type LedgerInput,
  type LedgerStream,
} from "../../harness/ledger/ledger.ts";
import type { DropRecord } from "../../pipeline/core/drops.ts";

/** Seqs 0..produced-1 of tenant/http/p0, the first `acked` acknowledged, the rest rejected. */
function stream(tenant: string, produced: number, at = 1_000, acked = produced): LedgerStream {
  return {
    tenant,
    dataset: "http",
    producer: "p0",
    produced: IntervalSet.range(0, produced - 1),
    acked: IntervalSet.range(0, acked - 1),
    rejected: IntervalSet.range(acked, produced - 1),
    unknown: new IntervalSet(),
    runs: [{ seqFrom: 0, seqTo: produced - 1, firstAt: at, lastAt: at + 100 }],
  };
}

const ranges = (tenant: string, ...list: Array<[number, number]>) => ({
  tenant,
  dataset: "http",
  producer: "p0",
  ranges: list,
});

const delivery = (
  destination: string,
  tenant: string,
  ...list: Array<[number, number]>
): LedgerDelivery => ({ destination, streams: [ranges(tenant, ...list)] });

function drop(reason: string, tenant: string, ...list: Array<[number, number]>): DropRecord {
  const count = list.reduce((sum, [from, to]) => sum + to - from + 1, 0);
  return { id: 0, at: 0, component: "pusher", reason, count, streams: [ranges(tenant, ...list)] };
}

const job = (tenant: string, at = 0, enabled = true, destination = `sink-0/${tenant}`) => ({
  at,
  tenant,
  dataset: "http",
  destination,
  enabled,
});
const jobs = jobSpans([job("a"), job("b")]);

function ledger(input: Partial<LedgerInput> & Pick<LedgerInput, "streams">) {
  return computeLedger({ deliveries: [], drops: [], jobs, graceMs: 50, ...input });
}

describe("ledger", () => {
  it("counts delivered, duplicated, lost, declared, misdelivered, unexpected and rejected together", () => {
    const report = ledger({
      streams: [stream("a", 100, 1_000, 90), stream("b", 50), stream("c", 20)],
      deliveries: [
        delivery("sink-0/a", "a", [0, 59], [50, 54]), // 60 delivered, 5 duplicated
        delivery("sink-0/a", "a", [200, 204]), // 5 never produced
        delivery("sink-0/b", "b", [0, 39]),
        delivery("sink-0/a", "b", [40, 41]), // 2 of b at a's sink
        delivery("sink-0/b", "c", [0, 2]), // c has no job
      ],
      drops: [drop("refused", "a", [60, 69])],
    });
    expect(report.tenants.a).toMatchObject({
      produced: 100,
      expected: 90,
      delivered: 60,
      duplicated: 5,
      declared: 10,
      lost: 20,
      unexpected: 5,
      rejected: 10,
    });
    expect(report.tenants.b).toMatchObject({
      expected: 50,
      delivered: 40,
      lost: 10,
      misdelivered: 2,
    });
    expect(report.tenants.c).toMatchObject({
      expected: 0,
      unconfigured: 20,
      lost: 0,
      misdelivered: 3,
      deliveredWithoutJob: 3,
    });
    expect(report.totals.lost).toBe(30);
    expect(report.lostSamples[0]).toEqual({
      tenant: "a",
      dataset: "http",
      producer: "p0",
      seq: 70,
    });
  });

  it("counts acknowledged events that reached no sink and were not declared as lost", () => {
    const report = ledger({
      streams: [stream("a", 10)],
      deliveries: [delivery("sink-0/a", "a", [0, 3], [7, 9])],
    });
    expect(report.totals).toMatchObject({ expected: 10, delivered: 7, lost: 3 });
    expect(report.lostSamples.map((id) => id.seq)).toEqual([4, 5, 6]);
  });

  it("gives at most ten lost samples, the first streams' lowest seqs first", () => {
    const report = ledger({ streams: [stream("a", 8), stream("b", 8)] });
    expect(report.totals.lost).toBe(16);
    expect(report.lostSamples.map((id) => `${id.tenant}${id.seq}`)).toEqual([
      ...["a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7"],
      ...["b0", "b1"],
    ]);
  });

  it("counts every copy beyond the first as duplicated, delivering the event once", () => {
    const report = ledger({
      streams: [stream("a", 10)],
      deliveries: [
        delivery("sink-0/a", "a", [0, 9]),
        delivery("sink-0/a", "a", [2, 4]),
        delivery("sink-0/a", "a", [3, 3]),
      ],
    });
    expect(report.totals).toMatchObject({ delivered: 10, duplicated: 4, lost: 0 });
  });

  it("counts a copy at the pair's new destination after a move as a duplicate, not a misdelivery", () => {
    const moved = jobSpans([job("a"), job("a", 5_000, true, "sink-1/a")]);
    const report = ledger({
      streams: [stream("a", 10)],
      jobs: moved,
      deliveries: [delivery("sink-0/a", "a", [0, 9]), delivery("sink-1/a", "a", [0, 1])],
    });
    expect(report.totals).toMatchObject({ delivered: 10, duplicated: 2, misdelivered: 0 });
  });

  it("counts a copy at another pair's sink as misdelivered, whatever else reached the own sink", () => {
    const report = ledger({
      streams: [stream("a", 10), stream("b", 10)],
      deliveries: [
        delivery("sink-0/a", "a", [0, 9]),
        delivery("sink-0/b", "b", [0, 9]),
        delivery("sink-0/b", "a", [0, 1], [0, 0]),
      ],
    });
    expect(report.tenants.a).toMatchObject({ delivered: 10, duplicated: 0, misdelivered: 3 });
    expect(report.tenants.b).toMatchObject({ misdelivered: 0 });
    expect(report.misdeliveredSamples).toEqual([
      { tenant: "a", dataset: "http", producer: "p0", seq: 0, destination: "sink-0/b" },
      { tenant: "a", dataset: "http", producer: "p0", seq: 1, destination: "sink-0/b" },
      { tenant: "a", dataset: "http", producer: "p0", seq: 0, destination: "sink-0/b" },
    ]);
  });

  it("counts a misdelivered event as lost when no copy reached its own sink", () => {
    const report = ledger({
      streams: [stream("a", 4)],
      deliveries: [delivery("sink-0/b", "a", [0, 3])],
    });
    expect(report.totals).toMatchObject({ expected: 4, delivered: 0, lost: 4, misdelivered: 4 });
  });

  it("lets two pairs share one destination", () => {
    const shared = jobSpans([job("a", 0, true, "sink-0/all"), job("b", 0, true, "sink-0/all")]);
    const report = ledger({
      streams: [stream("a", 5), stream("b", 5)],
      jobs: shared,
      deliveries: [delivery("sink-0/all", "a", [0, 4]), delivery("sink-0/all", "b", [0, 4])],
    });
    expect(report.totals).toMatchObject({ delivered: 10, misdelivered: 0, lost: 0 });
  });

  it("counts copies of streams nobody produced as unexpected and misdelivered", () => {
    const report = ledger({
      streams: [],
      deliveries: [delivery("sink-0/a", "b", [0, 4]), delivery("sink-0/b", "b", [3, 6])],
    });
    // b's own sink holds 3..6; 0..4 went to a's: 3 and 4 are misdelivered copies, not duplicates.
    expect(report.tenants.b).toMatchObject({ unexpected: 7, misdelivered: 5, duplicated: 0 });
  });

  it("counts never-produced seqs once each, and every corrupt copy, as unexpected", () => {
    const report = ledger({
      streams: [stream("a", 10)],
      deliveries: [
        delivery("sink-0/a", "a", [0, 11]),
        delivery("sink-0/a", "a", [10, 11]),
        { destination: "sink-0/a", streams: [], corrupt: [ranges("a", [3, 4])] },
        { destination: "sink-0/a", streams: [], corrupt: [ranges("a", [3, 3])] },
      ],
    });
    expect(report.totals).toMatchObject({ delivered: 10, unexpected: 2 + 3, duplicated: 2 });
  });

  it("counts dropped events with a visible reason as declared, not lost", () => {
    const report = ledger({
      streams: [stream("a", 10)],
      deliveries: [delivery("sink-0/a", "a", [0, 4])],
      drops: [drop("destination sink-0/a refused the batch: 400", "a", [3, 7])],
    });
    expect(report.totals).toMatchObject({ delivered: 5, declared: 3, lost: 2 });
  });

  it("does not take filtering as unconfigured for a declaration: the job existed, so it is lost", () => {
    const report = ledger({
      streams: [stream("a", 10)],
      drops: [drop("unconfigured", "a", [0, 4]), drop("unconfigured: empty config", "a", [5, 9])],
    });
    expect(report.totals).toMatchObject({ expected: 10, declared: 0, lost: 10 });
  });

  it("counts events refused at ingress as rejected, never expected", () => {
    const report = ledger({ streams: [stream("a", 10, 1_000, 6)] });
    expect(report.totals).toMatchObject({ rejected: 4, expected: 6, lost: 6, indeterminate: 0 });
  });

  it("treats events whose batch outcome is unknown or unsettled as indeterminate, not lost", () => {
    const unsure: LedgerStream = {
      ...stream("a", 10),
      acked: IntervalSet.range(0, 3),
      unknown: IntervalSet.range(4, 6),
      rejected: new IntervalSet(),
    };
    const report = ledger({ streams: [unsure], deliveries: [delivery("sink-0/a", "a", [0, 9])] });
    // 4..6 unknown and 7..9 in flight: indeterminate even though delivered.
    expect(report.totals).toMatchObject({ expected: 4, delivered: 4, indeterminate: 6, lost: 0 });
  });

  it("treats events produced near a job change as indeterminate, not lost", () => {
    const late = jobSpans([job("a", 1_050)]);
    const report = ledger({ streams: [stream("a", 10)], jobs: late, graceMs: 200 });
    expect(report.totals).toMatchObject({ expected: 0, lost: 0, indeterminate: 10 });
  });

  it("treats events produced within the grace window after a job is disabled as indeterminate", () => {
    const ended = jobSpans([job("a"), job("a", 950, false)]);
    const report = ledger({ streams: [stream("a", 10)], jobs: ended, graceMs: 50 });
    expect(report.totals).toMatchObject({ expected: 0, indeterminate: 10, unconfigured: 0 });
  });

  it("expects events produced just beyond the grace window of a change", () => {
    const early = jobSpans([job("a", 949)]);
    const report = ledger({ streams: [stream("a", 10)], jobs: early, graceMs: 50 });
    expect(report.totals).toMatchObject({ expected: 10, indeterminate: 0 });
  });

  it("counts a rejected event near a job change once, as rejected", () => {
    const late = jobSpans([job("a", 1_050)]);
    const report = ledger({ streams: [stream("a", 10, 1_000, 7)], jobs: late, graceMs: 200 });
    expect(report.totals).toMatchObject({ produced: 10, rejected: 3, indeterminate: 7 });
  });

  it("treats events with no production run as indeterminate", () => {
    const untimed = {
      ...stream("a", 10),
      runs: [{ seqFrom: 0, seqTo: 5, firstAt: 1_000, lastAt: 1_100 }],
    };
    const report = ledger({ streams: [untimed] });
    expect(report.totals).toMatchObject({ expected: 6, indeterminate: 4 });
  });

  it("ignores a change of another pair's job: the incident's new dataset does not excuse the loss", () => {
    const newDataset = jobSpans([job("a"), { ...job("z", 1_020), dataset: "new_dataset" }]);
    const report = ledger({ streams: [stream("a", 10)], jobs: newDataset, graceMs: 200 });
    expect(report.totals).toMatchObject({ expected: 10, lost: 10, indeterminate: 0 });
  });

  it("does not expect events produced while no job existed", () => {
    const ended = jobSpans([job("a"), job("a", 500, false)]);
    const report = ledger({ streams: [stream("a", 10, 5_000)], jobs: ended, graceMs: 100 });
    expect(report.totals).toMatchObject({ expected: 0, unconfigured: 10, lost: 0 });
  });

  it("counts events delivered although no job covered them, with samples", () => {
    const ended = jobSpans([job("a"), job("a", 500, false)]);
    const report = ledger({
      streams: [stream("a", 10, 5_000)],
      jobs: ended,
      deliveries: [delivery("sink-0/a", "a", [2, 3])],
    });
    expect(report.totals).toMatchObject({ deliveredWithoutJob: 2, misdelivered: 0 });
    expect(report.deliveredWithoutJobSamples.map((id) => id.seq)).toEqual([2, 3]);
  });

  it("refuses a negative grace window, a stream listed twice and runs out of order", () => {
    expect(() => ledger({ streams: [], graceMs: -1 })).toThrow(/graceMs is -1/);
    expect(() => ledger({ streams: [stream("a", 1), stream("a", 1)] })).toThrow(/listed twice/);
    const backwards = {
      ...stream("a", 10),
      runs: [
        { seqFrom: 5, seqTo: 9, firstAt: 0, lastAt: 0 },
        { seqFrom: 0, seqTo: 4, firstAt: 0, lastAt: 0 },
      ],
    };
    expect(() => ledger({ streams: [backwards] })).toThrow(/a\/http\/p0: run/);
  });
});

describe("jobSpans", () => {
  it("opens a span when a job is enabled and closes it when disabled", () => {
    expect(jobSpans([job("a", 10), job("a", 20, false), job("a", 30)])).toEqual([
      { tenant: "a", dataset: "http", destination: "sink-0/a", from: 10, to: 20 },
      { tenant: "a", dataset: "http", destination: "sink-0/a", from: 30, to: null },
    ]);
  });

  it("ignores enabling a job that already is, and disabling one that is not", () => {
    expect(jobSpans([job("a", 20, false), job("a", 10), job("a", 15)])).toEqual([
      { tenant: "a", dataset: "http", destination: "sink-0/a", from: 10, to: 20 },
    ]);
  });

  it("starts a new span when the pair moves to another destination", () => {
    expect(jobSpans([job("a", 0), job("a", 40, true, "sink-1/a")])).toEqual([
      { tenant: "a", dataset: "http", destination: "sink-0/a", from: 0, to: 40 },
      { tenant: "a", dataset: "http", destination: "sink-1/a", from: 40, to: null },
    ]);
  });
});
