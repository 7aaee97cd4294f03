// Sink faults on the reference pipeline running as processes with a fault proxy on every link:
// the sink answers pushes with 5xx, 429 or slowly until healed; down takes the pusher's link to
// it down (or, without proxies, kills it), and what was ingested meanwhile arrives after the
// heal.

import { describe, expect, it } from "vitest";
import { probeHealth } from "../../harness/runtime/process/health.ts";
import { eventLine, eventually, ingest, post, useFaultRig } from "./support.ts";

const rig = useFaultRig({ proxies: true });

/** A push to sink-0 as the pusher makes it. */
function push(): ReturnType<typeof post> {
  return post(`${rig().topology.service("sink-0").url()}/ingest/t000.http_requests`, eventLine());
}

async function receivedBySink(): Promise<number> {
  const response = await fetch(`${rig().topology.service("sink-0").url()}/records?cursor=0`);
  const page = (await response.json()) as { records: Array<{ count: number }> };
  return page.records.reduce((sum, record) => sum + record.count, 0);
}

describe("sink faults on processes", () => {
  it("sink.error makes the sink answer 5xx; heal 2xx", async () => {
    const fault = await rig().inject({ kind: "sink.error", sink: "sink-0", status: 502 });
    expect((await push()).status).toBe(502);
    await fault.heal();
    expect((await push()).status).toBe(200);
  });

  it("sink.throttle makes the sink answer 429 with its Retry-After; heal 2xx", async () => {
    const fault = await rig().inject({
      kind: "sink.throttle",
      sink: "sink-0",
      retryAfterMs: 1_500,
    });
    const throttled = await push();
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("retry-after-ms")).toBe("1500");
    await fault.heal();
    expect((await push()).status).toBe(200);
  });

  it("sink.slow delays the sink's answer by about delayMs; heal answers at once", async () => {
    const fault = await rig().inject({ kind: "sink.slow", sink: "sink-0", delayMs: 400 });
    const slow = await push();
    expect(slow.status).toBe(200);
    expect(slow.ms).toBeGreaterThanOrEqual(380);
    await fault.heal();
    expect((await push()).ms).toBeLessThan(300);
  });

  it("sink.down takes pusher->sink-0 down through its proxy, the sink itself still up; events ingested meanwhile arrive after the heal", async () => {
    const links = rig().links!;
    const sink = rig().topology.service("sink-0");
    const fault = await rig().inject({ kind: "sink.down", sink: "sink-0" });
    expect(await probeHealth(links.proxyUrl("pusher->sink-0"), 1_000)).toEqual({
      error: "ECONNREFUSED",
    });
    expect(await probeHealth(sink.url(), 1_000)).toEqual({ status: 200 });
    const before = await receivedBySink();
    expect((await ingest(rig())).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await receivedBySink()).toBe(before);
    await fault.heal();
    expect(await probeHealth(links.proxyUrl("pusher->sink-0"), 1_000)).toEqual({ status: 200 });
    expect(await eventually(async () => (await receivedBySink()) > before, 10_000)).toBe(true);
  });

  it("sink.down without proxies kills the sink; heal restarts it healthy", async () => {
    const sink = rig().topology.service("sink-0");
    const fault = await rig().inject({ kind: "sink.down", sink: "sink-0" }, { links: null });
    expect(sink.state()).toBe("exited");
    expect(await probeHealth(sink.url(), 500)).toEqual({ error: "ECONNREFUSED" });
    await fault.heal();
    expect(sink.state()).toBe("running");
    expect(await probeHealth(sink.url(), 5_000)).toEqual({ status: 200 });
  });

  it("a sink fault on a service that is not a sink fails, naming what it is", async () => {
    await expect(rig().inject({ kind: "sink.error", sink: "buffer" })).rejects.toThrow(
      'service "buffer" is a buffer, expected a sink',
    );
  });
});
