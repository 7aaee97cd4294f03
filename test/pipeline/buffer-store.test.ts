// The buffer's bookkeeping keeps the per-tenant high-water mark that bounded-buffer checks
// against maxTenantBytes: the most bytes one tenant held at once, which tenant and when.

import { describe, expect, it } from "vitest";
import { BufferStore, type Chunk } from "../../pipeline/buffer/store.ts";
import { pairKey } from "../../pipeline/core/event.ts";

let nextId = 1;
function chunk(tenant: string, dataset: string, bytes: number): Chunk {
  return {
    id: nextId++,
    tenant,
    dataset,
    body: "",
    count: 1,
    bytes,
    segment: "s0",
    leaseId: 0,
    leaseUntil: 0,
  };
}

describe("BufferStore per-tenant high water", () => {
  it("is the most one tenant held across its datasets, with the tenant and the time", () => {
    const store = new BufferStore();
    store.add(chunk("t1", "http", 300), 10);
    store.add(chunk("t2", "http", 500), 20);
    store.add(chunk("t1", "dns", 400), 30);
    expect(store.highWater).toMatchObject({ tenant: "t1", tenantBytes: 700, tenantBytesAt: 30 });
  });

  it("is not lowered when the tenant's bytes are acked, and moves only for a higher one", () => {
    const store = new BufferStore();
    store.add(chunk("t1", "http", 900), 10);
    const lease = store.lease(pairKey("t1", "http"), 10_000, 11, 1_000);
    expect(lease).toBeDefined();
    store.ack(lease!.id);
    expect(store.bytesOfTenant("t1")).toBe(0);
    store.add(chunk("t2", "http", 800), 20);
    expect(store.highWater).toMatchObject({ tenant: "t1", tenantBytes: 900, tenantBytesAt: 10 });
    store.add(chunk("t2", "http", 200), 30);
    expect(store.highWater).toMatchObject({ tenant: "t2", tenantBytes: 1_000, tenantBytesAt: 30 });
  });

  it("is null and zero before anything was added", () => {
    expect(new BufferStore().highWater).toMatchObject({ tenant: null, tenantBytes: 0 });
  });
});
