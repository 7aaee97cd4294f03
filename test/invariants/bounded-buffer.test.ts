import { describe, expect, it } from "vitest";
import { checkBoundedBuffer } from "../../harness/invariants/bounded-buffer.ts";
import { at, MiB, observations, sample, withBuffer } from "./observations.ts";

const bounds = {
  maxBufferBytes: 64 * MiB,
  maxTenantBytes: 16 * MiB,
  maxBuffers: 100,
  maxMemoryMb: 256,
};

describe("bounded-buffer", () => {
  it("holds within every bound, giving the exact high-water marks and when they were reached", () => {
    const result = checkBoundedBuffer(observations());
    expect(result.status).toBe("held");
    expect(result.summary).toBe(
      "high water 3.0 MiB of 64.0 MiB (4.7%) at +800 ms, 4 of 100 buffers, fullest tenant a 2.0 MiB of 16.0 MiB (12.5%); no memory event of the buffer over 2 readings across 1.0 s",
    );
    expect(result.evidence).toEqual({
      samples: 2,
      highWaterBytes: { value: 3 * MiB, at: at(800), bound: 64 * MiB, ofBound: 3 / 64 },
      highWaterBuffers: { value: 4, at: at(500), bound: 100, ofBound: 0.04 },
      highWaterTenantBytes: {
        value: 2 * MiB,
        at: at(700),
        tenant: "a",
        bound: 16 * MiB,
        ofBound: 2 / 16,
      },
      memory: { boundMb: 256, exceeded: 0, firstExceeded: [] },
    });
  });

  it("takes the highest mark of any incarnation: a restart does not hide an earlier peak", () => {
    const result = checkBoundedBuffer(
      withBuffer({
        samples: [
          sample(1_000, {
            highWaterBytes: 90 * MiB,
            highWaterBytesAt: at(900),
            highWaterBuffers: 7,
            highWaterBuffersAt: at(950),
            highWaterTenant: { tenant: "a", bytes: MiB, at: at(900) },
          }),
          // Restarted: its own marks begin again.
          sample(5_000, {
            highWaterBytes: 1 * MiB,
            highWaterBytesAt: at(4_800),
            highWaterBuffers: 2,
            highWaterBuffersAt: at(4_900),
            highWaterTenant: { tenant: "a", bytes: MiB, at: at(4_800) },
          }),
        ],
      }),
    );
    expect(result.status).toBe("violated");
    expect(result.evidence.highWaterBytes).toEqual({
      value: 90 * MiB,
      at: at(900),
      bound: 64 * MiB,
      ofBound: 90 / 64,
    });
    expect(result.summary).toBe(
      "buffered bytes reached 90.0 MiB, 1.4× the 64.0 MiB bound, at +900 ms",
    );
  });

  it("is violated by too many buffers, naming the count, the bound and when", () => {
    const result = checkBoundedBuffer(
      withBuffer({
        samples: [sample(3_000, { highWaterBuffers: 5_000, highWaterBuffersAt: at(2_500) })],
      }),
    );
    expect(result.status).toBe("violated");
    expect(result.summary).toBe("5,000 buffers at +2.5 s, over the bound of 100");
    expect(result.evidence.highWaterBuffers).toMatchObject({
      value: 5_000,
      bound: 100,
      ofBound: 50,
    });
  });

  it("is violated by one tenant over its per-tenant bound, naming the tenant, the bytes and when, with the total within bounds", () => {
    const result = checkBoundedBuffer(
      withBuffer({
        samples: [
          sample(1_000, {
            highWaterBytes: 30 * MiB,
            highWaterBytesAt: at(900),
            highWaterTenant: { tenant: "t007", bytes: 12 * MiB, at: at(600) },
          }),
          sample(2_000, {
            highWaterBytes: 30 * MiB,
            highWaterBytesAt: at(900),
            highWaterTenant: { tenant: "t003", bytes: 24 * MiB, at: at(1_800) },
          }),
        ],
      }),
    );
    expect(result.status).toBe("violated");
    expect(result.summary).toBe(
      "tenant t003 held 24.0 MiB, 1.5× the 16.0 MiB per-tenant bound, at +1.8 s",
    );
    expect(result.evidence.highWaterTenantBytes).toEqual({
      value: 24 * MiB,
      at: at(1_800),
      tenant: "t003",
      bound: 16 * MiB,
      ofBound: 1.5,
    });
  });

  it("is violated when the buffer process exceeded its memory, even with marks in bounds", () => {
    const memoryExceeded = [
      { service: "buffer", at: at(40_000), rssMb: 512.3, capMb: 256 },
      { service: "buffer", at: at(55_000), rssMb: 300, capMb: 256 },
    ];
    const result = checkBoundedBuffer(observations({ memoryExceeded }));
    expect(result.status).toBe("violated");
    expect(result.summary).toBe(
      "the buffer process exceeded its memory 2 times (first: 512 MB RSS over a 256 MB cap at +40.0 s)",
    );
    expect(result.evidence.memory).toEqual({
      boundMb: 256,
      exceeded: 2,
      firstExceeded: memoryExceeded,
    });
  });

  it("does not blame the buffer for another service's memory: a pusher killed by its cap is evidence, not a breach", () => {
    const pusherKilled = { service: "pusher", at: at(3_000), rssMb: 61.2, capMb: 60 };
    const result = checkBoundedBuffer(observations({ memoryExceeded: [pusherKilled] }));
    expect(result.status).toBe("held");
    expect(result.summary).toMatch(
      /no memory event of the buffer .*; memory events of other services, not the buffer's: pusher 1$/,
    );
    expect(result.evidence.memory).toEqual({
      boundMb: 256,
      exceeded: 0,
      firstExceeded: [],
      otherServices: [{ service: "pusher", events: 1 }],
    });
  });

  it("is violated by a memory event even when no /stats reading was taken", () => {
    const base = withBuffer({ samples: [] });
    const result = checkBoundedBuffer({
      ...base,
      memoryExceeded: [{ service: "buffer", at: at(1_000), rssMb: 300, capMb: 256 }],
    });
    expect(result.status).toBe("violated");
    expect(result.evidence).toMatchObject({
      samples: 0,
      highWaterBytes: null,
      highWaterBuffers: null,
      highWaterTenantBytes: null,
    });
  });

  it("reports every breach in one line", () => {
    const result = checkBoundedBuffer({
      ...withBuffer({
        bounds,
        samples: [
          sample(1_000, {
            highWaterBytes: 128 * MiB,
            highWaterBytesAt: at(1_000),
            highWaterBuffers: 200,
            highWaterBuffersAt: at(900),
            highWaterTenant: { tenant: "a", bytes: 100 * MiB, at: at(1_000) },
          }),
        ],
      }),
      memoryExceeded: [{ service: "buffer", at: at(1_200), rssMb: 400, capMb: 256 }],
    });
    expect(result.summary.split("; ")).toHaveLength(4);
  });

  it("is unknown when no reading was taken and no memory event was seen", () => {
    const result = checkBoundedBuffer(withBuffer({ samples: [] }));
    expect(result.status).toBe("unknown");
    expect(result.summary).toBe(
      "no reading of the buffer's /stats was taken: its high-water marks (bytes, buffers, bytes per tenant) are unknown",
    );
    expect(result.evidence).toMatchObject({ samples: 0, highWaterBytes: null });
  });

  it("is unknown when /stats never reported the per-tenant mark, though the other marks held", () => {
    const result = checkBoundedBuffer(
      withBuffer({ samples: [sample(1_000, { highWaterBytes: MiB })] }),
    );
    expect(result.status).toBe("unknown");
    expect(result.summary).toBe(
      "the buffer's /stats did not report its per-tenant high-water mark: whether a tenant went over its bound is unknown",
    );
    expect(result.evidence.highWaterTenantBytes).toBeNull();
  });
});
