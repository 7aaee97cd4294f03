import { describe, expect, it } from "vitest";
import {
  plannedJobs,
  selectJobTenants,
  TenantSampler,
  tenantNames,
  zipfShares,
} from "../../harness/workload/tenants.ts";
import { seededRng } from "./seeded-rng.ts";
import { rig, runFor } from "./setup.ts";

function drawShares(sampler: TenantSampler, draws: number, seed = 7): number[] {
  const rng = seededRng(seed);
  const counts = sampler.names.map(() => 0);
  for (let i = 0; i < draws; i++) counts[sampler.draw(rng)]! += 1;
  return counts.map((count) => count / draws);
}

describe("tenants", () => {
  it("are named by rank with at least three digits", () => {
    expect(tenantNames(3)).toEqual(["t000", "t001", "t002"]);
    expect(tenantNames(1_500).at(-1)).toBe("t1499");
  });

  it("share traffic in proportion to 1/(rank+1)^s", () => {
    const shares = zipfShares(5, 1.2);
    expect(shares.reduce((sum, share) => sum + share, 0)).toBeCloseTo(1, 12);
    shares.forEach((share, rank) => {
      expect(share / shares[0]!).toBeCloseTo(1 / (rank + 1) ** 1.2, 12);
    });
    expect(zipfShares(4, 0)).toEqual([0.25, 0.25, 0.25, 0.25]);
  });

  it("are drawn with their Zipf shares", () => {
    const sampler = new TenantSampler(10, 1);
    const drawn = drawShares(sampler, 200_000);
    zipfShares(10, 1).forEach((share, rank) => {
      expect(Math.abs(drawn[rank]! - share)).toBeLessThan(0.005);
    });
  });

  it("are drawn with a flooded tenant's share multiplied", () => {
    const sampler = new TenantSampler(10, 1);
    sampler.setFlood("t009", 20);
    const shares = zipfShares(10, 1);
    expect(sampler.loadFactor).toBeCloseTo(1 + 19 * shares[9]!, 12);
    const drawn = drawShares(sampler, 200_000);
    expect(drawn[9]! / drawn[0]!).toBeCloseTo((20 * shares[9]!) / shares[0]!, 1);
    sampler.setFlood("t009", 0);
    expect(drawShares(sampler, 20_000)[9]).toBe(0);
    sampler.clearFloods();
    expect(sampler.loadFactor).toBeCloseTo(1, 12);
  });

  it("refuses a flood of an unknown tenant or out of bounds", () => {
    const sampler = new TenantSampler(3, 1);
    expect(() => sampler.setFlood("t007", 2)).toThrow(
      /"t007" is not one of the workload's 3 tenants \(t000..t002\)/,
    );
    expect(() => sampler.setFlood("t001", -1)).toThrow(
      /multiplier is -1, expected a number from 0 to 1000/,
    );
    expect(() => sampler.setFlood("t001", Number.NaN)).toThrow(/multiplier is NaN/);
  });
});

describe("job tenants", () => {
  it("are every k-th tenant by rank, so heavy and light tenants both have and lack jobs", () => {
    expect(selectJobTenants({ tenants: 10, jobShare: 0.5 })).toEqual([
      "t000",
      "t002",
      "t004",
      "t006",
      "t008",
    ]);
    expect(selectJobTenants({ tenants: 10, jobShare: 0.3 })).toEqual(["t000", "t003", "t006"]);
    expect(selectJobTenants({ tenants: 9, jobShare: 2 / 3 })).toEqual([
      "t000",
      "t001",
      "t003",
      "t004",
      "t006",
      "t007",
    ]);
  });

  it("are none or all at the extremes of jobShare", () => {
    expect(selectJobTenants({ tenants: 5, jobShare: 0 })).toEqual([]);
    expect(selectJobTenants({ tenants: 5, jobShare: 1 })).toEqual(tenantNames(5));
  });

  it("are an explicit list when one is given, in rank order", () => {
    expect(selectJobTenants({ tenants: 5, jobShare: 0.5, jobTenants: ["t004", "t001"] })).toEqual([
      "t001",
      "t004",
    ]);
  });

  it("get one planned job per dataset", () => {
    expect(plannedJobs({ tenants: 3, jobShare: 1 / 3, datasets: ["a", "b"] })).toEqual([
      { tenant: "t000", dataset: "a" },
      { tenant: "t000", dataset: "b" },
    ]);
  });

  it("carry about jobShare of the tenants for any count", () => {
    for (let tenants = 1; tenants <= 60; tenants++) {
      for (const jobShare of [0.1, 0.25, 0.5, 0.75]) {
        const chosen = selectJobTenants({ tenants, jobShare });
        expect(chosen.length).toBe(Math.round(jobShare * tenants));
        expect(new Set(chosen).size).toBe(chosen.length);
      }
    }
  });
});

describe("the workload's tenant mix", () => {
  it("follows the configured Zipf shares over many events", async () => {
    const setup = rig({ tenants: 6, zipfExponent: 1.5, eventsPerSecond: 10_000, batchSize: 1_000 });
    const stats = await runFor(setup, 5_000);
    const perTenant = new Map<string, number>();
    for (const stream of setup.workload.record.streams()) {
      perTenant.set(stream.tenant, (perTenant.get(stream.tenant) ?? 0) + stream.produced);
    }
    zipfShares(6, 1.5).forEach((share, rank) => {
      const observed = (perTenant.get(`t00${rank}`) ?? 0) / stats.produced;
      expect(Math.abs(observed - share)).toBeLessThan(0.01);
    });
  });
});
