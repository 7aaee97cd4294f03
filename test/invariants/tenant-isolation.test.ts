import { describe, expect, it } from "vitest";
import { checkTenantIsolation } from "../../harness/invariants/tenant-isolation.ts";
import { ledgerOf, observations } from "./observations.ts";

const leaky = ledgerOf(
  {
    a: { expected: 100, delivered: 100, misdelivered: 30 },
    b: { expected: 100, delivered: 100, misdelivered: 2 },
    c: { produced: 50, unconfigured: 50, deliveredWithoutJob: 12 },
  },
  {
    misdeliveredSamples: [
      { tenant: "a", dataset: "http", producer: "p0", seq: 5, destination: "sink-1/b.http" },
    ],
    deliveredWithoutJobSamples: [{ tenant: "c", dataset: "http", producer: "p1", seq: 0 }],
  },
);

describe("tenant-isolation", () => {
  it("holds when every copy reached its own destination and nothing went out without a job", () => {
    const result = checkTenantIsolation(observations());
    expect(result.status).toBe("held");
    expect(result.summary).toBe(
      "every delivered copy reached its own tenant's destination, and nothing was delivered without a job",
    );
    expect(result.evidence).toMatchObject({
      misdelivered: 0,
      deliveredWithoutJob: 0,
      tenantsAffected: 0,
    });
  });

  it("is violated by misdelivered copies and by deliveries without a job, with counts per tenant and samples", () => {
    const result = checkTenantIsolation(observations({ ledger: leaky }));
    expect(result.status).toBe("violated");
    expect(result.summary).toBe(
      "32 copies reached another tenant's destination (2 tenants; first: a/http/p0#5 at sink-1/b.http); " +
        "12 events were delivered while no job covered them (1 tenant; first: c/http/p1#0)",
    );
    expect(result.evidence).toEqual({
      misdelivered: 32,
      deliveredWithoutJob: 12,
      tenantsAffected: 3,
      tenants: [
        { tenant: "a", misdelivered: 30, deliveredWithoutJob: 0 },
        { tenant: "c", misdelivered: 0, deliveredWithoutJob: 12 },
        { tenant: "b", misdelivered: 2, deliveredWithoutJob: 0 },
      ],
      firstMisdelivered: leaky.misdeliveredSamples,
      firstDeliveredWithoutJob: leaky.deliveredWithoutJobSamples,
    });
  });

  it("is violated by a delivery without a job alone", () => {
    const ledger = ledgerOf({ c: { deliveredWithoutJob: 1 } });
    const result = checkTenantIsolation(observations({ ledger }));
    expect(result.status).toBe("violated");
    expect(result.summary).toBe("1 event was delivered while no job covered them (1 tenant)");
  });

  it("is unknown when no leak was seen but some sink's records could not be read", () => {
    const result = checkTenantIsolation(observations({ unreadableSinks: ["sink-1"] }));
    expect(result.status).toBe("unknown");
    expect(result.summary).toBe(
      "no leak in the sinks that were read, but the records of sink-1 could not be read",
    );
    expect(result.evidence.unreadableSinks).toEqual(["sink-1"]);
  });

  it("stays violated when a leak was seen, whatever could not be read", () => {
    const result = checkTenantIsolation(
      observations({ ledger: leaky, unreadableSinks: ["sink-1"] }),
    );
    expect(result.status).toBe("violated");
  });
});
