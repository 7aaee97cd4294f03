import { describe, expect, it } from "vitest";
import { StreamRecord, WorkloadRecord } from "../../harness/workload/record.ts";
import { MAX_TIMELINE_BUCKETS, Timeline } from "../../harness/workload/timeline.ts";
import type { Script } from "./fake-forwarder.ts";
import { acceptAll } from "./fake-forwarder.ts";
import { rig, runFor } from "./setup.ts";

function sampleStream(): StreamRecord {
  const stream = new StreamRecord("t001", "http_requests", "edge-0");
  stream.produce(10, 1_000, 500); // 0..9
  stream.produce(5, 1_400, 500); // 10..14, same run
  stream.produce(5, 1_600, 500); // 15..19, new run
  stream.settle("acked", 0, 9);
  stream.settle("rejected", 15, 19);
  return stream;
}

describe("a stream's record", () => {
  it("claims dense seqs and groups them into production runs", () => {
    const stream = sampleStream();
    expect(stream.produced).toBe(20);
    expect(stream.productionRuns()).toEqual([
      { seqFrom: 0, seqTo: 14, firstAt: 1_000, lastAt: 1_400 },
      { seqFrom: 15, seqTo: 19, firstAt: 1_600, lastAt: 1_600 },
    ]);
    expect(stream.producedAt(12)).toEqual({ firstAt: 1_000, lastAt: 1_400 });
    expect(stream.producedAt(19)).toEqual({ firstAt: 1_600, lastAt: 1_600 });
    expect(stream.producedAt(20)).toBeUndefined();
  });

  it("counts what is still in flight", () => {
    const stream = sampleStream();
    expect(stream.counts()).toEqual({
      produced: 20,
      acked: 10,
      rejected: 5,
      unknown: 0,
      inFlight: 5,
    });
    expect(stream.inFlight().toJSON()).toEqual([[10, 14]]);
  });

  it("refuses to settle a seq twice or one never produced", () => {
    const stream = sampleStream();
    expect(() => stream.settle("unknown", 9, 12)).toThrow(
      /seqs 9..12 settled as unknown, but 1 already have an outcome/,
    );
    expect(() => stream.settle("acked", 18, 25)).toThrow(/produced 20/);
  });
});

describe("the workload record", () => {
  it("survives a JSON round trip of a run with every outcome", async () => {
    const script: Script = (request) =>
      request.index % 3 === 1
        ? { status: 400, body: "" }
        : request.index % 3 === 2
          ? { failure: "refused" }
          : acceptAll(request);
    const setup = rig({ tenants: 5, maxAttempts: 1, eventsPerSecond: 500, batchSize: 20 }, script);
    await runFor(setup, 2_000);
    const json = JSON.parse(JSON.stringify(setup.workload.record));
    const revived = WorkloadRecord.fromJSON(json);
    expect(JSON.parse(JSON.stringify(revived))).toEqual(json);
    expect(revived.totals()).toEqual(setup.workload.record.totals());
    expect(json.totals.unknown).toBeGreaterThan(0);
    expect(json.jobTenants).toEqual(setup.workload.jobTenants);
    expect(json.startedAt).toBeLessThan(json.stoppedAt);
  });

  it("reads back seqs and production times of each stream", () => {
    const record = new WorkloadRecord(["t001"], new Timeline(0, 1_000));
    const stream = record.streamFor("t001", "http_requests", "edge-0");
    stream.produce(3, 50, 1_000);
    stream.settle("acked", 0, 2);
    const revived = WorkloadRecord.fromJSON(JSON.parse(JSON.stringify(record)));
    const copy = revived.stream("t001", "http_requests", "edge-0");
    expect(copy?.acked.toJSON()).toEqual([[0, 2]]);
    expect(copy?.producedAt(1)).toEqual({ firstAt: 50, lastAt: 50 });
  });

  it("names what is wrong in a bad record", () => {
    const record = new WorkloadRecord([], new Timeline(0, 1_000));
    record.streamFor("t001", "d", "edge-0").produce(3, 50, 1_000);
    const json = JSON.parse(JSON.stringify(record));
    expect(() => WorkloadRecord.fromJSON({ ...json, version: 2 })).toThrow(/record\.version/);
    const withBadSet = structuredClone(json);
    withBadSet.streams[0].acked = [[0, 7]];
    expect(() => WorkloadRecord.fromJSON(withBadSet)).toThrow(
      /record\.streams\[0\]\.acked holds seq 7, never produced/,
    );
    const withGap = structuredClone(json);
    withGap.streams[0].runs = [[1, 2, 50, 50]];
    expect(() => WorkloadRecord.fromJSON(withGap)).toThrow(
      /record\.streams\[0\]\.runs\[0\] is \[1,2,50,50\], expected \[0/,
    );
    const repeated = structuredClone(json);
    repeated.streams.push(repeated.streams[0]);
    expect(() => WorkloadRecord.fromJSON(repeated)).toThrow(
      /streams\[1\] repeats stream t001\/d\/edge-0/,
    );
  });
});

describe("the timeline", () => {
  it("counts into buckets by time", () => {
    const timeline = new Timeline(10_000, 1_000);
    timeline.count("produced", 10_100, 5);
    timeline.count("produced", 10_900, 5);
    timeline.count("acked", 12_500, 7);
    expect(timeline.toJSON().buckets).toEqual([
      [10_000, 10, 0, 0, 0, 0],
      [11_000, 0, 0, 0, 0, 0],
      [12_000, 0, 7, 0, 0, 0],
    ]);
    expect(timeline.sum("acked", 12_000, 13_000)).toBe(7);
  });

  it("doubles its bucket width instead of growing past its bound", () => {
    const timeline = new Timeline(0, 1);
    for (let at = 0; at < MAX_TIMELINE_BUCKETS * 3; at++) timeline.count("produced", at, 1);
    const json = timeline.toJSON();
    expect(json.bucketMs).toBe(4);
    expect(json.buckets.length).toBeLessThanOrEqual(MAX_TIMELINE_BUCKETS);
    expect(timeline.sum("produced", 0, Infinity)).toBe(MAX_TIMELINE_BUCKETS * 3);
    expect(JSON.stringify(Timeline.fromJSON(json))).toBe(JSON.stringify(json));
  });
});

it("a batch settled later stretches its production run to the settle time", () => {
  const stream = new StreamRecord("t1", "http", "p0");
  stream.produce(10, 1_000, 100);
  stream.produce(10, 5_000, 100);
  stream.settle("acked", 0, 9, 4_000);
  stream.settle("acked", 10, 19, 5_050);
  expect(stream.productionRuns()).toEqual([
    { seqFrom: 0, seqTo: 9, firstAt: 1_000, lastAt: 4_000 },
    { seqFrom: 10, seqTo: 19, firstAt: 5_000, lastAt: 5_050 },
  ]);
});
