import { describe, expect, it } from "vitest";
import type { Workload } from "../../harness/workload/workload.ts";
import { zipfShares } from "../../harness/workload/tenants.ts";
import { rig } from "./setup.ts";

const options = { tenants: 5, zipfExponent: 1, eventsPerSecond: 1_000, batchSize: 200 };

function producedBy(workload: Workload, tenant?: string): number {
  let total = 0;
  for (const stream of workload.record.streams()) {
    if (tenant === undefined || stream.tenant === tenant) total += stream.produced;
  }
  return total;
}

describe("load controls", () => {
  it("a surge multiplies all traffic, and clearing it restores the rate", async () => {
    const { clock, workload } = rig(options);
    workload.start();
    await clock.advance(2_000);
    const before = producedBy(workload);
    workload.setSurge(3);
    expect(workload.stats().targetEventsPerSecond).toBeCloseTo(3_000);
    await clock.advance(2_000);
    const during = producedBy(workload) - before;
    workload.clearSurge();
    await clock.advance(2_000);
    const after = producedBy(workload) - before - during;
    expect(during / before).toBeGreaterThan(2.9);
    expect(during / before).toBeLessThan(3.1);
    expect(after / before).toBeGreaterThan(0.95);
    expect(after / before).toBeLessThan(1.05);
    await clock.run(workload.stop(), 1_000);
  });

  it("a tenant flood multiplies that tenant's traffic and leaves the others' alone", async () => {
    const { clock, workload } = rig({ ...options, eventsPerSecond: 2_000 });
    workload.start();
    await clock.advance(4_000);
    const lightBefore = producedBy(workload, "t004");
    const othersBefore = producedBy(workload) - lightBefore;
    workload.setTenantFlood("t004", 10);
    expect(workload.stats().floods).toEqual({ t004: 10 });
    const share = zipfShares(5, 1)[4]!;
    expect(workload.targetEventsPerSecond()).toBeCloseTo(2_000 * (1 + 9 * share));
    await clock.advance(4_000);
    const lightDuring = producedBy(workload, "t004") - lightBefore;
    const othersDuring = producedBy(workload) - lightDuring - lightBefore - othersBefore;
    expect(lightDuring / lightBefore).toBeGreaterThan(8.5);
    expect(lightDuring / lightBefore).toBeLessThan(11.5);
    expect(othersDuring / othersBefore).toBeGreaterThan(0.95);
    expect(othersDuring / othersBefore).toBeLessThan(1.05);

    workload.clearTenantFlood("t004");
    expect(workload.stats().floods).toEqual({});
    expect(workload.targetEventsPerSecond()).toBeCloseTo(2_000);
    await clock.run(workload.stop(), 1_000);
  });

  it("clearing floods restores every tenant", () => {
    const { workload } = rig(options);
    workload.setTenantFlood("t000", 4);
    workload.setTenantFlood("t003", 0);
    workload.clearFloods();
    expect(workload.stats().floods).toEqual({});
    expect(workload.targetEventsPerSecond()).toBeCloseTo(1_000);
  });

  it("a surge of zero silences the workload until cleared", async () => {
    const { clock, workload } = rig(options);
    workload.start();
    await clock.advance(1_000);
    workload.setSurge(0);
    const silenced = producedBy(workload);
    await clock.advance(2_000);
    expect(producedBy(workload)).toBe(silenced);
    workload.clearSurge();
    await clock.advance(1_000);
    expect(producedBy(workload)).toBeGreaterThan(silenced + 900);
    await clock.run(workload.stop(), 1_000);
  });

  it("refuses multipliers out of bounds, naming them", () => {
    const { workload } = rig(options);
    expect(() => workload.setSurge(1_001)).toThrow(/surge multiplier is 1001/);
    expect(() => workload.setTenantFlood("nobody", 2)).toThrow(/"nobody" is not one of/);
  });
});
