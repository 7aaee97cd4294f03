// Load faults on a workload driving the reference pipeline running as processes: a surge
// multiplies what the workload produces, a tenant flood multiplies one tenant's share (which
// the forwarder, without a job for it, filters), an all-tenants flood every tenant's; heals
// restore the rates.

import { beforeAll, describe, expect, it } from "vitest";
import { realClock } from "../../pipeline/host/real-seam.ts";
import { useFaultRig } from "./support.ts";

const rig = useFaultRig();
const WINDOW_MS = 1_000;

beforeAll(() => rig().workload.start());

/** Events produced per second over the next window, by every tenant or by one. */
async function producedPerSecond(tenant?: string): Promise<number> {
  const produced = (): number => {
    let total = 0;
    for (const stream of rig().workload.record.streams()) {
      if (tenant === undefined || stream.tenant === tenant) total += stream.counts().produced;
    }
    return total;
  };
  const before = produced();
  await realClock.sleep(WINDOW_MS);
  return ((produced() - before) * 1_000) / WINDOW_MS;
}

/** The forwarder's count of events filtered as unconfigured. */
async function filteredByForwarder(): Promise<number> {
  const response = await fetch(`${rig().topology.service("forwarder").url()}/metrics`);
  const match = /^forwarder_events_total\{[^}]*outcome="filtered"[^}]*\} (\d+)/m.exec(
    await response.text(),
  );
  return match === null ? 0 : Number(match[1]);
}

describe("load faults on processes", () => {
  it("load.surge multiplies the workload's target rate and what it produces; heal restores them", async () => {
    const normal = rig().workload.targetEventsPerSecond();
    const baseline = await producedPerSecond();
    const fault = await rig().inject({ kind: "load.surge", multiplier: 4 });
    expect(rig().workload.targetEventsPerSecond()).toBeCloseTo(normal * 4);
    expect(await producedPerSecond()).toBeGreaterThan(baseline * 2.5);
    await fault.heal();
    expect(rig().workload.targetEventsPerSecond()).toBeCloseTo(normal);
    expect(rig().workload.stats().surge).toBe(1);
  });

  it("load.tenant-flood multiplies one tenant's traffic, which the forwarder filters as unconfigured; heal clears it", async () => {
    expect(rig().workload.jobTenants).not.toContain("t001");
    const baseline = await producedPerSecond("t001");
    const filteredBefore = await filteredByForwarder();
    const fault = await rig().inject({ kind: "load.tenant-flood", tenant: "t001", multiplier: 10 });
    expect(rig().workload.stats().floods).toEqual({ t001: 10 });
    expect(await producedPerSecond("t001")).toBeGreaterThan(baseline * 4);
    expect((await filteredByForwarder()) - filteredBefore).toBeGreaterThan(baseline * 4);
    await fault.heal();
    expect(rig().workload.stats().floods).toEqual({});
  });

  it("load.all-tenants-flood floods every tenant, with a job or not; heal restores each tenant's flood as it was", async () => {
    const normal = rig().workload.targetEventsPerSecond();
    const tenantFlood = await rig().inject({
      kind: "load.tenant-flood",
      tenant: "t003",
      multiplier: 2,
    });
    const fault = await rig().inject({ kind: "load.all-tenants-flood", multiplier: 3 });
    expect(rig().workload.stats().floods).toEqual({ t000: 3, t001: 3, t002: 3, t003: 3 });
    expect(rig().workload.targetEventsPerSecond()).toBeCloseTo(normal * 3);
    await fault.heal();
    expect(rig().workload.stats().floods).toEqual({ t003: 2 });
    await tenantFlood.heal();
    expect(rig().workload.targetEventsPerSecond()).toBeCloseTo(normal);
  });

  it("a flood of a tenant the workload does not have fails, naming its tenants", async () => {
    await expect(
      rig().inject({ kind: "load.tenant-flood", tenant: "t999", multiplier: 2 }),
    ).rejects.toThrow('tenant "t999" is not one of the workload\'s 4 tenants (t000..t003)');
  });
});
