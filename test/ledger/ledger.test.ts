// The ledger counts each injected anomaly exactly, per tenant and in total.

import { describe, expect, it } from "vitest";
import { IntervalSet } from "../../harness/ledger/interval-set.ts";
import { computeLedger, jobSpans, type LedgerStream } from "../../harness/ledger/ledger.ts";

function stream(tenant: string, produced: number, at = 1_000, acked = produced): LedgerStream {
  return {
    tenant,
    dataset: "http",
    producer: "p0",
    produced: IntervalSet.range(0, produced - 1),
    acked: acked > 0 ? IntervalSet.range(0, acked - 1) : new IntervalSet(),
    rejected: acked < produced ? IntervalSet.range(acked, produced - 1) : new IntervalSet(),
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
const jobs = jobSpans([
  { at: 0, tenant: "a", dataset: "http", destination: "sink-0/a", enabled: true },
  { at: 0, tenant: "b", dataset: "http", destination: "sink-0/b", enabled: true },
]);

describe("ledger", () => {
  it("counts delivered, duplicated, lost, declared, misdelivered, unexpected and rejected exactly", () => {
    const report = computeLedger({
      streams: [stream("a", 100, 1_000, 90), stream("b", 50), stream("c", 20)],
      deliveries: [
        { destination: "sink-0/a", streams: [ranges("a", [0, 59], [50, 54])] }, // 60 delivered, 5 duplicated
        { destination: "sink-0/a", streams: [ranges("a", [200, 204])] }, // 5 never produced
        { destination: "sink-0/b", streams: [ranges("b", [0, 39])] },
        { destination: "sink-0/a", streams: [ranges("b", [40, 41])] }, // 2 of b at a's sink
        { destination: "sink-0/b", streams: [ranges("c", [0, 2])] }, // c has no job
      ],
      drops: [
        {
          id: 0,
          at: 0,
          component: "pusher",
          reason: "refused",
          count: 10,
          streams: [ranges("a", [60, 69])],
        },
      ],
      jobs,
      graceMs: 50,
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

  it("treats events produced near a job change as indeterminate, not lost", () => {
    const late = jobSpans([
      { at: 1_050, tenant: "a", dataset: "http", destination: "sink-0/a", enabled: true },
    ]);
    const report = computeLedger({
      streams: [stream("a", 10)],
      deliveries: [],
      drops: [],
      jobs: late,
      graceMs: 200,
    });
    expect(report.totals).toMatchObject({ expected: 0, lost: 0, indeterminate: 10 });
  });

  it("does not expect events produced while no job existed", () => {
    const ended = jobSpans([
      { at: 0, tenant: "a", dataset: "http", destination: "sink-0/a", enabled: true },
      { at: 500, tenant: "a", dataset: "http", destination: "sink-0/a", enabled: false },
    ]);
    const report = computeLedger({
      streams: [stream("a", 10, 5_000)],
      deliveries: [],
      drops: [],
      jobs: ended,
      graceMs: 100,
    });
    expect(report.totals).toMatchObject({ expected: 0, lost: 0, indeterminate: 0 });
  });
});
