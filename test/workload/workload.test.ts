import { describe, expect, it } from "vitest";
import { IntervalSet } from "../../harness/ledger/interval-set.ts";
import { NAME_PATTERN, payloadMatches, streamKey } from "../../pipeline/core/event.ts";
import { Workload } from "../../harness/workload/workload.ts";
import { FakeClock } from "./fake-clock.ts";
import { acceptAll, FakeForwarder, type Script } from "./fake-forwarder.ts";
import { seededRng } from "./seeded-rng.ts";
import { FORWARDER_URL, rig, runFor } from "./setup.ts";

const small = {
  tenants: 8,
  datasets: ["http_requests", "firewall_events"],
  producers: 3,
  eventsPerSecond: 2_000,
  batchSize: 100,
  payloadBytes: 32,
};

describe("the workload", () => {
  it("posts NDJSON batches of valid events to the forwarder's /ingest", async () => {
    const setup = rig(small);
    await runFor(setup, 1_000);
    const [request] = setup.forwarder.requests;
    expect(request?.url).toBe(`${FORWARDER_URL}/ingest`);
    for (const event of setup.forwarder.firstAttemptEvents()) {
      expect(event.tenant).toMatch(NAME_PATTERN);
      expect(event.producer).toMatch(/^edge-[0-2]$/);
      expect(event.payload).toHaveLength(32);
      expect(payloadMatches(event)).toBe(true);
    }
  });

  it("numbers each stream's events densely from 0, across batches and producers", async () => {
    const setup = rig(small);
    const stats = await runFor(setup, 3_000);
    const seqs = new Map<string, number[]>();
    for (const event of setup.forwarder.firstAttemptEvents()) {
      const list = seqs.get(streamKey(event)) ?? [];
      list.push(event.seq);
      seqs.set(streamKey(event), list);
    }
    expect(seqs.size).toBeGreaterThan(8);
    let total = 0;
    for (const [key, list] of seqs) {
      expect(list, key).toEqual(list.map((_, index) => index));
      total += list.length;
    }
    expect(total).toBe(stats.produced);
  });

  it("produces at the configured rate", async () => {
    const stats = await runFor(rig(small), 5_000);
    expect(stats.produced).toBeGreaterThanOrEqual(9_800);
    expect(stats.produced).toBeLessThanOrEqual(10_000);
  });

  it("records exactly the events the forwarder acknowledged, rejected or left unknown", async () => {
    const script: Script = (request) => {
      if (request.index % 5 === 1) return { status: 400, body: "no" };
      if (request.index % 5 === 3) return { failure: "reset", accepted: request.index % 2 === 1 };
      return acceptAll(request);
    };
    const setup = rig({ ...small, maxAttempts: 1 }, script);
    const stats = await runFor(setup, 2_000);
    expect(stats.rejected).toBeGreaterThan(0);
    expect(stats.unknown).toBeGreaterThan(0);

    const unknownTaken = new Map<string, IntervalSet>();
    for (const request of setup.forwarder.requests.filter((r) => r.index % 5 === 3)) {
      for (const event of request.events) {
        const set = unknownTaken.get(streamKey(event)) ?? new IntervalSet();
        set.add(event.seq);
        unknownTaken.set(streamKey(event), set);
      }
    }
    for (const stream of setup.workload.record.streams()) {
      const taken = setup.forwarder.accepted.get(stream.key) ?? new IntervalSet();
      const takenWithAnswer = taken.difference(unknownTaken.get(stream.key) ?? new IntervalSet());
      expect(stream.acked.equals(takenWithAnswer), stream.key).toBe(true);
      // Every produced event has exactly one outcome.
      const all = stream.acked.union(stream.rejected).union(stream.unknown);
      expect(all.equals(stream.producedSet()), stream.key).toBe(true);
      expect(stream.acked.size + stream.rejected.size + stream.unknown.size).toBe(stream.produced);
    }
    expect(stats.acked + stats.rejected + stats.unknown).toBe(stats.produced);
    expect(stats.inFlight).toBe(0);
  });

  it("keeps at most `concurrency` batches in flight and holds production back meanwhile", async () => {
    const setup = rig({ ...small, concurrency: 2, batchSize: 50 }, acceptAll, { latencyMs: 400 });
    const stats = await runFor(setup, 4_000);
    expect(setup.forwarder.highWaterInFlight).toBe(2);
    // Two batches of 50 per 400 ms round trip is at most 250 events/s, well under 2000.
    expect(stats.produced).toBeLessThanOrEqual(50 * 2 * 11);
    expect(stats.acked).toBe(stats.produced);
  });

  it("stops producing at maxEvents", async () => {
    const stats = await runFor(rig({ ...small, maxEvents: 1_234 }), 5_000);
    expect(stats.produced).toBe(1_234);
    expect(stats.acked).toBe(1_234);
  });

  it("waits on stop for the batches in flight", async () => {
    const setup = rig(small, acceptAll, { latencyMs: 3_000 });
    setup.workload.start();
    await setup.clock.advance(500);
    const inFlight = setup.workload.stats().inFlight;
    expect(inFlight).toBeGreaterThan(0);
    const stats = await setup.clock.run(setup.workload.stop(), 10_000);
    expect(stats).toMatchObject({ state: "stopped", acked: stats.produced, inFlight: 0 });
  });

  it("records batches still in flight after the stop bound as unknown", async () => {
    const setup = rig({ ...small, stopTimeoutMs: 1_000 }, acceptAll, { latencyMs: 4_000 });
    setup.workload.start();
    await setup.clock.advance(500);
    const produced = setup.workload.stats().produced;
    const stopped = setup.workload.stop();
    const stats = await setup.clock.run(stopped, 2_000);
    expect(stats).toMatchObject({ produced, acked: 0, unknown: produced, inFlight: 0 });
    // Late answers change nothing, and no timer of the workload is left behind.
    await setup.clock.advance(10_000);
    expect(setup.workload.stats().acked).toBe(0);
    expect(setup.clock.pendingTimers()).toBe(0);
  });

  it("stops cleanly when nothing is in flight, and only once", async () => {
    const setup = rig(small);
    setup.workload.start();
    await setup.clock.advance(250);
    const first = setup.workload.stop();
    expect(setup.workload.stop()).toBe(first);
    const stats = await setup.clock.run(first, 1_000);
    await setup.clock.advance(5_000);
    expect(setup.workload.stats().elapsedMs).toBe(stats.elapsedMs);
    expect(() => setup.workload.start()).toThrow(/can start once; it is stopped/);
    expect(setup.clock.pendingTimers()).toBe(0);
  });

  it("keeps when each seq was produced, in runs no longer than productionRunMs", async () => {
    const setup = rig({ ...small, productionRunMs: 500 });
    const startedAt = setup.clock.now();
    await runFor(setup, 3_000);
    const sentAt = new Map<string, number>();
    for (const request of setup.forwarder.requests) {
      for (const event of request.events)
        sentAt.set(`${streamKey(event)}#${event.seq}`, request.at);
    }
    for (const stream of setup.workload.record.streams()) {
      let next = 0;
      stream.forEachRun((run) => {
        expect(run.seqFrom).toBe(next);
        expect(run.lastAt - run.firstAt).toBeLessThan(500);
        next = run.seqTo + 1;
      });
      expect(next).toBe(stream.produced);
      for (let seq = 0; seq < stream.produced; seq += 7) {
        const when = stream.producedAt(seq);
        const at = sentAt.get(`${stream.key}#${seq}`) as number;
        expect(at).toBeGreaterThanOrEqual(when!.firstAt);
        expect(at).toBeLessThanOrEqual(when!.lastAt);
        expect(at).toBeGreaterThan(startedAt);
      }
    }
  });

  it("reports live stats: counts, attempts and the recent rate", async () => {
    const setup = rig(small);
    setup.workload.start();
    await setup.clock.advance(3_000);
    const stats = setup.workload.stats();
    expect(stats.state).toBe("running");
    expect(stats.elapsedMs).toBe(3_000);
    expect(stats.targetEventsPerSecond).toBeCloseTo(2_000);
    expect(stats.eventsPerSecond).toBeGreaterThan(1_800);
    expect(stats.eventsPerSecond).toBeLessThan(2_200);
    expect(stats.ackedPerSecond).toBeGreaterThan(1_800);
    expect(stats.attempts).toBe(stats.batches.sent);
    await setup.clock.run(setup.workload.stop(), 1_000);
  });

  it("plans one job per dataset for each job tenant", () => {
    const { workload } = rig({ tenants: 4, jobShare: 0.5, datasets: ["a", "b"] });
    expect(workload.jobTenants).toEqual(["t000", "t002"]);
    expect(workload.plannedJobs()).toEqual([
      { tenant: "t000", dataset: "a" },
      { tenant: "t000", dataset: "b" },
      { tenant: "t002", dataset: "a" },
      { tenant: "t002", dataset: "b" },
    ]);
  });

  it("keeps the rate when the flush interval is longer than the burst allowance", async () => {
    const stats = await runFor(rig({ ...small, flushIntervalMs: 2_000, maxBurstMs: 100 }), 10_500);
    // Five ticks of 4000 events, plus what accrued while waiting for slots within a tick.
    expect(stats.produced).toBeGreaterThanOrEqual(20_000);
    expect(stats.produced).toBeLessThanOrEqual(21_000);
  });

  it("logs the first batches that end badly, then only counts them", async () => {
    const warnings: string[] = [];
    const log = { info() {}, error() {}, warn: (message: string) => void warnings.push(message) };
    const clock = new FakeClock();
    const forwarder = new FakeForwarder(clock, () => ({ status: 400, body: "no" }));
    const workload = new Workload(
      { clock, rng: seededRng(1), net: forwarder, log },
      FORWARDER_URL,
      small,
    );
    workload.start();
    await clock.advance(3_000);
    const stats = await clock.run(workload.stop(), 1_000);
    expect(stats.batches.rejected).toBeGreaterThan(40);
    expect(warnings.filter((message) => message === "batch rejected")).toHaveLength(20);
    expect(warnings.at(-1)).toMatch(/counted in stats but not logged/);
  });

  it("refuses invalid options before starting anything", () => {
    expect(() => rig({ tenants: 0 })).toThrow(/workload.tenants is 0/);
  });
});
