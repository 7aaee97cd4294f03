import { describe, expect, it } from "vitest";
import { IntervalSet } from "../../harness/ledger/interval-set.ts";
import type { Reply, Script } from "./fake-forwarder.ts";
import { oneBatch, rig, runFor } from "./setup.ts";

const ok = (events: number): Reply => ({ status: 200, body: JSON.stringify({ accepted: events }) });
const pushback = (status: number, headers: Record<string, string>): Reply => ({
  status,
  headers,
  body: '{"error":"busy"}',
});

/** Answers request i with replies[i], and with the last reply from then on. */
function sequence(...replies: Reply[]): Script {
  return (request) => replies[Math.min(request.index, replies.length - 1)] as Reply;
}

function gaps(times: number[]): number[] {
  return times.slice(1).map((at, index) => at - (times[index] as number));
}

const LATENCY_MS = 5;

describe("sending a batch", () => {
  it("retries after a 429 no sooner than retry-after-ms and no later than a quarter more", async () => {
    const setup = rig(
      oneBatch(10),
      sequence(
        pushback(429, { "retry-after-ms": "300" }),
        pushback(429, { "retry-after-ms": "300" }),
        ok(10),
      ),
    );
    const stats = await runFor(setup, 1_000);
    const times = setup.forwarder.requests.map((request) => request.at);
    expect(times).toHaveLength(3);
    for (const gap of gaps(times)) {
      expect(gap - LATENCY_MS).toBeGreaterThanOrEqual(300);
      expect(gap - LATENCY_MS).toBeLessThan(375);
    }
    expect(stats).toMatchObject({ acked: 10, rejected: 0, unknown: 0, retries: 2, attempts: 3 });
  });

  it("retries the very same batch body", async () => {
    const setup = rig(oneBatch(10), sequence(pushback(503, { "retry-after-ms": "10" }), ok(10)));
    await runFor(setup, 1_000);
    const [first, second] = setup.forwarder.requests;
    expect(second?.body).toBe(first?.body);
  });

  it("reads retry-after in seconds when retry-after-ms is absent", async () => {
    const setup = rig(oneBatch(10), sequence(pushback(503, { "Retry-After": "2" }), ok(10)));
    await runFor(setup, 5_000);
    const [gap] = gaps(setup.forwarder.requests.map((request) => request.at));
    expect(gap).toBeGreaterThanOrEqual(2_000 + LATENCY_MS);
  });

  it("waits no longer than maxRetryAfterMs however long the forwarder asks", async () => {
    const options = { ...oneBatch(10), maxRetryAfterMs: 500 };
    const setup = rig(options, sequence(pushback(429, { "retry-after-ms": "60000" }), ok(10)));
    await runFor(setup, 2_000);
    const [gap] = gaps(setup.forwarder.requests.map((request) => request.at));
    expect(gap).toBeLessThan(500 * 1.25 + LATENCY_MS);
  });

  it("records a batch as rejected when push-backs outlast maxAttempts", async () => {
    const options = { ...oneBatch(10), maxAttempts: 4 };
    const setup = rig(options, () => pushback(429, { "retry-after-ms": "100" }));
    const stats = await runFor(setup, 2_000);
    expect(setup.forwarder.requests).toHaveLength(4);
    expect(stats).toMatchObject({ produced: 10, acked: 0, rejected: 10, unknown: 0, retries: 3 });
    const [stream] = setup.workload.record.streams();
    expect(stream?.rejected.toJSON()).toEqual([[0, 9]]);
  });

  it("records a batch answered 400 as rejected after one attempt", async () => {
    const setup = rig(oneBatch(10), () => ({ status: 400, body: '{"error":"line 1: bad"}' }));
    const stats = await runFor(setup, 1_000);
    expect(setup.forwarder.requests).toHaveLength(1);
    expect(stats).toMatchObject({ rejected: 10, retries: 0 });
  });

  it("retries a 500 with backoff and records the later acknowledgement", async () => {
    const setup = rig(oneBatch(10), sequence({ status: 500, body: "oops" }, ok(10)));
    const stats = await runFor(setup, 1_000);
    expect(setup.forwarder.requests).toHaveLength(2);
    expect(stats).toMatchObject({ acked: 10, retries: 1 });
  });

  it("records a batch as unknown when every attempt fails in transport", async () => {
    const options = { ...oneBatch(10), maxAttempts: 3, retryBaseMs: 100, retryMaxMs: 150 };
    const setup = rig(options, () => ({ failure: "reset" }));
    const stats = await runFor(setup, 2_000);
    expect(stats).toMatchObject({ acked: 0, rejected: 0, unknown: 10, retries: 2 });
    // backoffMs: full jitter over the upper half of min(retryMaxMs, retryBaseMs · 2^attempt).
    const [first, second] = gaps(setup.forwarder.requests.map((request) => request.at));
    expect(first! - LATENCY_MS).toBeGreaterThanOrEqual(50);
    expect(first! - LATENCY_MS).toBeLessThanOrEqual(100);
    expect(second! - LATENCY_MS).toBeGreaterThanOrEqual(75);
    expect(second! - LATENCY_MS).toBeLessThanOrEqual(150);
  });

  it("treats a request that outlives requestTimeoutMs as a transport failure", async () => {
    const options = { ...oneBatch(10), maxAttempts: 2, requestTimeoutMs: 1_000 };
    const setup = rig(options, () => ({ ...ok(10), latencyMs: 5_000 }));
    const stats = await runFor(setup, 10_000);
    expect(setup.forwarder.requests).toHaveLength(2);
    expect(stats.unknown).toBe(10);
  });

  it("keeps a batch unknown when a transport failure came before the final push-back", async () => {
    const options = { ...oneBatch(10), maxAttempts: 3 };
    const script = sequence(
      { failure: "timeout", accepted: true },
      pushback(429, { "retry-after-ms": "10" }),
    );
    const setup = rig(options, script);
    const stats = await runFor(setup, 2_000);
    expect(stats).toMatchObject({ unknown: 10, rejected: 0 });
    // The forwarder did take it: unknown was the honest answer.
    expect(setup.forwarder.accepted.size).toBe(1);
  });

  it("acknowledges a batch whose first answer was lost after the forwarder took it", async () => {
    const setup = rig(oneBatch(10), sequence({ failure: "reset", accepted: true }, ok(10)));
    const stats = await runFor(setup, 1_000);
    expect(stats).toMatchObject({ acked: 10, unknown: 0, retries: 1 });
    const [stream] = setup.workload.record.streams();
    expect(stream?.acked.equals(IntervalSet.range(0, 9))).toBe(true);
  });

  it("counts a 200 whose accepted count is not the batch size as a protocol error", async () => {
    const setup = rig(oneBatch(10), () => ({ status: 200, body: '{"accepted":3}' }));
    const stats = await runFor(setup, 1_000);
    expect(stats).toMatchObject({ acked: 10, protocolErrors: 1 });
  });
});
