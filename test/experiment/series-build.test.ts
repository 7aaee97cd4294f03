// The series builder on synthetic inputs: bucketing from the run's start, loss charted by when
// its events were produced, wider buckets past SERIES_BUCKETS_MAX, gaps as null, and a journal
// that stays small for a 10-minute run.

import { describe, expect, it } from "vitest";
import { IntervalSet } from "../../harness/ledger/interval-set.ts";
import { computeLedger, type LedgerStream } from "../../harness/ledger/ledger.ts";
import {
  buildSeries,
  EVENT_CLASSES,
  seriesFaults,
  settledStream,
  type SeriesInput,
  type SettledStream,
} from "../../harness/experiment/series-build.ts";
import { SERIES_BUCKETS_MAX, SERIES_TENANTS_MAX } from "../../harness/experiment/series.ts";
import type { MethodStep } from "../../harness/experiment/definition.ts";
import { plannedStep } from "../../harness/experiment/plan.ts";

const START = 1_000_000;

function input(overrides: Partial<SeriesInput>): SeriesInput {
  return {
    startedAt: START,
    endedAt: START + 10_000,
    streams: [],
    buffer: { unit: "bytes", held: [], buffers: [], bound: 100, buffersBound: 8 },
    memory: [],
    health: [],
    faults: [],
    published: [],
    maxRemovedPairShare: 0.5,
    decisions: [],
    events: [],
    ...overrides,
  };
}

/** A stream producing `perRun` events a second from the start, one production run a second. */
function stream(tenant: string, seconds: number, perRun: number, lost: IntervalSet): SettledStream {
  const runs = Array.from({ length: seconds }, (_, second) => ({
    seqFrom: second * perRun,
    seqTo: second * perRun + perRun - 1,
    firstAt: START + second * 1_000 + 10,
    lastAt: START + second * 1_000 + 900,
  }));
  const produced = IntervalSet.range(0, seconds * perRun - 1);
  const none = new IntervalSet();
  return {
    tenant,
    runs,
    classes: {
      produced,
      acknowledged: produced,
      rejected: none,
      delivered: produced.difference(lost),
      declared: none,
      lost,
      indeterminate: none,
    },
  };
}

describe("buildSeries", () => {
  it("counts events in the bucket they were produced in, from the run's start", () => {
    const series = buildSeries(input({ streams: [stream("a", 10, 5, new IntervalSet())] }));
    expect(series).toMatchObject({ bucketMs: 1_000, buckets: 10 });
    expect(series.events.produced).toEqual(new Array(10).fill(5));
    expect(series.events.lost).toEqual(new Array(10).fill(0));
  });

  it("charts a loss at the production time of the lost events, per tenant", () => {
    // Seqs 12..17 were produced in seconds 2 (12..14) and 3 (15..17).
    const series = buildSeries(
      input({
        streams: [
          stream("a", 10, 5, IntervalSet.range(12, 17)),
          stream("b", 10, 5, new IntervalSet()),
        ],
      }),
    );
    expect(series.events.lost).toEqual([0, 0, 3, 3, 0, 0, 0, 0, 0, 0]);
    expect(series.events.delivered[2]).toBe(7);
    expect(Object.keys(series.lostByTenant)).toEqual(["a"]);
    expect(series.lostByTenant.a).toEqual(series.events.lost);
  });

  it("charts every class with the ledger's settlement of it, in the buckets its events were produced in", () => {
    // Tenant a, 10 events a second for 10 s: 0..29 delivered, 30..39 declared, 40..49 and
    // 60..79 lost, 50..59 acknowledged beside an unconfirmed job change (indeterminate),
    // 80..89 rejected, 90..99 with no outcome (indeterminate). Tenant b, alike, has no job:
    // its acknowledged events are unconfigured.
    const ledgerStream = (tenant: string): LedgerStream => ({
      tenant,
      dataset: "http",
      producer: "p0",
      produced: IntervalSet.range(0, 99),
      acked: IntervalSet.range(0, 79),
      rejected: IntervalSet.range(80, 89),
      unknown: IntervalSet.range(90, 99),
      runs: [...stream(tenant, 10, 10, new IntervalSet()).runs],
    });
    const ranges = (from: number, to: number) => ({
      tenant: "a",
      dataset: "http",
      producer: "p0",
      ranges: [[from, to] as [number, number]],
    });
    const settled: SettledStream[] = [];
    const ledger = computeLedger({
      streams: [ledgerStream("a"), ledgerStream("b")],
      deliveries: [{ destination: "sink-0/a", streams: [ranges(0, 29)] }],
      drops: [
        {
          id: 0,
          at: 0,
          component: "pusher",
          reason: "refused",
          count: 10,
          streams: [ranges(30, 39)],
        },
      ],
      jobs: [
        {
          tenant: "a",
          dataset: "http",
          destination: "sink-0/a",
          from: 0,
          to: null,
          unsettled: [[START + 5_500, START + 5_500]],
        },
      ],
      graceMs: 50,
      onStream: (stream, settlement) => settled.push(settledStream(stream, settlement)),
    });
    const series = buildSeries(input({ streams: settled }));
    const total = (values: Array<number | null>) =>
      values.reduce<number>((a, b) => a + (b ?? 0), 0);
    for (const name of EVENT_CLASSES) {
      const count = name === "acknowledged" ? 2 * 80 : ledger.totals[name];
      expect(total(series.events[name]), name).toBe(count);
    }
    expect(ledger.totals).toMatchObject({
      declared: 10,
      lost: 30,
      indeterminate: 30,
      unconfigured: 80,
    });
    expect(series.events.lost).toEqual([0, 0, 0, 0, 10, 0, 10, 10, 0, 0]);
    expect(series.events.indeterminate).toEqual([0, 0, 0, 0, 0, 10, 0, 0, 0, 20]);
    expect(series.events.rejected).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 20, 0]);
    expect(series.lostByTenant).toEqual({ a: series.events.lost });
  });

  it("keeps the tenants with most loss and sums the rest as other", () => {
    const streams = Array.from({ length: SERIES_TENANTS_MAX + 3 }, (_, index) =>
      stream(`t${String(index).padStart(2, "0")}`, 2, 100, IntervalSet.range(0, index)),
    );
    const series = buildSeries(input({ streams, endedAt: START + 2_000 }));
    expect(Object.keys(series.lostByTenant)).toHaveLength(SERIES_TENANTS_MAX + 1);
    expect(series.lostByTenant.t00).toBeUndefined();
    // t00, t01, t02 lost 1 + 2 + 3 events, all produced in second 0.
    expect(series.lostByTenant.other).toEqual([6, 0]);
  });

  it("widens its buckets past SERIES_BUCKETS_MAX and holds the highest reading of each", () => {
    const hours = 2 * 3_600_000;
    const series = buildSeries(
      input({
        endedAt: START + hours,
        buffer: {
          unit: "bytes",
          held: [
            { at: START + 2_000, value: 10 },
            { at: START + 3_000, value: 30 },
            { at: START + 3_999, value: 20 },
          ],
          buffers: null,
          bound: null,
          buffersBound: null,
        },
      }),
    );
    expect(series.bucketMs).toBe(2_000);
    expect(series.buckets).toBeLessThanOrEqual(SERIES_BUCKETS_MAX);
    expect(series.buffer.held.slice(0, 3)).toEqual([null, 30, null]);
    expect(series.buffer.buffers).toBeNull();
  });

  it("leaves a bucket without a reading null, not zero", () => {
    const series = buildSeries(
      input({
        memory: [
          {
            service: "buffer",
            capMb: 64,
            readingsMb: [
              { at: START + 500, value: 40.04 },
              { at: START + 3_200, value: 41.26 },
            ],
          },
        ],
        health: [
          { at: START + 100, unhealthy: [] },
          { at: START + 2_100, unhealthy: ["sink-0"] },
          { at: START + 2_600, unhealthy: ["buffer"] },
        ],
      }),
    );
    expect(series.memory).toEqual([
      {
        service: "buffer",
        capMb: 64,
        mb: [40, null, null, 41.3, null, null, null, null, null, null],
      },
    ]);
    expect(series.unhealthy.slice(0, 4)).toEqual([[], null, ["buffer", "sink-0"], null]);
  });

  it("judges published configs and takes the applied ones from the forwarder", () => {
    const series = buildSeries(
      input({
        published: [
          { seenAt: START + 100, version: 1, pairs: ["a/x"] },
          { seenAt: START + 5_000, version: 2, pairs: [] },
        ],
        decisions: [
          {
            at: START + 5_100,
            version: 2,
            valid: true,
            applied: true,
            failOpen: false,
            reason: null,
          },
          {
            at: START + 6_000,
            version: 3,
            valid: false,
            applied: false,
            failOpen: false,
            reason: "x",
          },
        ],
        events: [
          {
            at: START + 7_000,
            service: "buffer",
            kind: "exited",
            cause: "memory-cap",
            code: null,
            signal: null,
          },
          { at: START + 7_000, service: "buffer", kind: "ready", url: "http://x" },
        ],
      }),
    );
    expect(series.configs).toEqual([
      { atMs: 100, kind: "published", version: 1, invalid: null },
      { atMs: 5_000, kind: "published", version: 2, invalid: "empty: it forwards no pair" },
      { atMs: 5_100, kind: "applied", version: 2, invalid: "empty: it forwards no pair" },
    ]);
    expect(series.restarts).toEqual([{ atMs: 7_000, service: "buffer", kind: "exited" }]);
  });

  it("stays well under 1 MB for a 10-minute run of 40 tenants losing all along", () => {
    const streams = Array.from({ length: 40 }, (_, index) =>
      stream(
        `t${index}`,
        600,
        1_000,
        IntervalSet.range(0, 599_999).difference(IntervalSet.range(0, 10)),
      ),
    );
    const readings = Array.from({ length: 2_400 }, (_, index) => ({
      at: START + index * 250,
      value: 123_456_789 + index,
    }));
    const series = buildSeries(
      input({
        endedAt: START + 600_000,
        streams,
        buffer: { unit: "bytes", held: readings, buffers: readings, bound: 1e9, buffersBound: 64 },
        memory: ["buffer", "forwarder", "pusher"].map((service) => ({
          service,
          capMb: 512,
          readingsMb: readings.map(({ at }, index) => ({ at, value: 100 + index / 7 })),
        })),
        health: readings.map(({ at }) => ({ at, unhealthy: ["sink-0"] })),
      }),
    );
    expect(series.buckets).toBe(600);
    expect(JSON.stringify(series).length).toBeLessThan(250_000);
  });
});

describe("seriesFaults", () => {
  it("names each fault's target and leaves an unhealed one open", () => {
    const method = [
      { at: 5_000, fault: { kind: "process.kill", service: "buffer" } },
      { at: 1_000, fault: { kind: "config.revert" } },
    ] as unknown as MethodStep[];
    const step = (phase: string, name: string, startedMs: number, endedMs: number) => ({
      phase,
      name,
      startedMs,
      endedMs,
      ok: true,
    });
    expect(
      seriesFaults(
        [
          step("method", "config.revert (undo)", 1_000, 1_010),
          step("method", "process.kill", 5_000, 5_050),
          step("heal", "config.revert", 6_000, 6_100),
        ],
        method,
      ),
    ).toEqual([
      { name: "config.revert (undo)", target: null, fromMs: 1_000, toMs: 6_100 },
      { name: "process.kill", target: "buffer", fromMs: 5_000, toMs: null },
    ]);
  });

  it("names the target the plan names, for a fault whose first parameter is not its target", () => {
    // config.add-job's first parameter is the dataset; what it acts on is its destination's sink.
    const method = [
      {
        at: 1_000,
        fault: { kind: "config.add-job", dataset: "dns_logs", destination: "sink-1/t000.dns_logs" },
      },
    ] as unknown as MethodStep[];
    const [fault] = seriesFaults(
      [{ phase: "method", name: "config.add-job", startedMs: 1_000, endedMs: 1_010, ok: true }],
      method,
    );
    expect(fault?.target).toBe("sink-1");
    expect(plannedStep(method[0]!, 0).target).toBe(fault?.target);
  });
});
