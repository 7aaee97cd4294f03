import { describe, expect, it } from "vitest";
import type { Script } from "./fake-forwarder.ts";
import { acceptAll } from "./fake-forwarder.ts";
import { rig } from "./setup.ts";

// A forwarder that answers in every way the workload handles, by request index only.
const mixed: Script = (request) => {
  switch (request.index % 7) {
    case 2:
      return { status: 429, headers: { "retry-after-ms": "120" }, body: "" };
    case 4:
      return { failure: "reset" };
    case 5:
      return { status: 400, body: "bad" };
    default:
      return acceptAll(request);
  }
};

async function trace(seed: number): Promise<{ requests: string[]; record: string }> {
  const setup = rig(
    { tenants: 12, producers: 3, eventsPerSecond: 3_000, batchSize: 150, concurrency: 4 },
    mixed,
    { seed, latencyMs: 30 },
  );
  setup.workload.start();
  await setup.clock.advance(1_000);
  setup.workload.setSurge(2);
  setup.workload.setTenantFlood("t011", 30);
  await setup.clock.advance(1_000);
  await setup.clock.run(setup.workload.stop(), 60_000);
  return {
    requests: setup.forwarder.requests.map((request) => `${request.at} ${request.body}`),
    record: JSON.stringify(setup.workload.record),
  };
}

describe("determinism", () => {
  it("one seed gives the same requests, at the same times, and the same record", async () => {
    const first = await trace(42);
    const second = await trace(42);
    expect(first.requests.length).toBeGreaterThan(20);
    expect(second.requests).toEqual(first.requests);
    expect(second.record).toBe(first.record);
  });

  it("another seed gives another run", async () => {
    const [first, other] = [await trace(42), await trace(43)];
    expect(other.requests).not.toEqual(first.requests);
  });
});
