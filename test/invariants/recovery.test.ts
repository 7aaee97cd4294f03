import { describe, expect, it } from "vitest";
import { checkRecovery } from "../../harness/invariants/recovery.ts";
import { at, observations, sample, withRecovery } from "./observations.ts";

describe("recovery", () => {
  it("holds when the pipeline recovered within the bound after the last heal", () => {
    const result = checkRecovery(observations());
    expect(result.status).toBe("held");
    expect(result.summary).toBe(
      "recovered 2.5 s after the last heal (at +10.0 s), within the 30.0 s bound",
    );
    expect(result.evidence).toEqual({
      lastHealAt: at(10_000),
      recoveredAt: at(12_500),
      tookMs: 2_500,
      boundMs: 30_000,
    });
  });

  it("holds trivially when no fault was injected, and says so", () => {
    const result = checkRecovery(withRecovery({ lastHealAt: null, recoveredAt: null }));
    expect(result.status).toBe("held");
    expect(result.summary).toBe(
      "held trivially: no fault was injected, so there was nothing to recover from",
    );
  });

  it("is violated when recovery took longer than the bound", () => {
    const result = checkRecovery(withRecovery({ recoveredAt: at(55_200) }));
    expect(result.status).toBe("violated");
    expect(result.summary).toBe(
      "recovered only 45.2 s after the last heal (at +10.0 s), over the 30.0 s bound",
    );
    expect(result.evidence).toMatchObject({ tookMs: 45_200, boundMs: 30_000 });
  });

  it("is violated when it never recovered, saying for how long it was watched", () => {
    const result = checkRecovery(withRecovery({ recoveredAt: null, observedUntil: at(70_000) }));
    expect(result.status).toBe("violated");
    expect(result.summary).toBe(
      "not recovered 60.0 s after the last heal (at +10.0 s; bound 30.0 s): the backlog did not drain or a service stayed unhealthy",
    );
    expect(result.evidence).toEqual({
      lastHealAt: at(10_000),
      recoveredAt: null,
      watchedMs: 60_000,
      boundMs: 30_000,
    });
  });

  it("takes the last buffer reading as the end of watching when none is given", () => {
    const base = withRecovery({ recoveredAt: null });
    const result = checkRecovery({
      ...base,
      buffer: { ...base.buffer, samples: [sample(1_000), sample(50_000)] },
    });
    expect(result.status).toBe("violated");
    expect(result.evidence).toMatchObject({ watchedMs: 40_000 });
  });

  it("is violated without a time when nothing tells how long it was watched", () => {
    const base = withRecovery({ recoveredAt: null });
    const result = checkRecovery({ ...base, buffer: { ...base.buffer, samples: [] } });
    expect(result.status).toBe("violated");
    expect(result.summary).toMatch(/^not recovered at all after the last heal/);
  });

  it("is unknown when it was not recovered yet but watched for less than the bound", () => {
    const result = checkRecovery(withRecovery({ recoveredAt: null, observedUntil: at(20_000) }));
    expect(result.status).toBe("unknown");
    expect(result.summary).toBe(
      "not recovered yet, but watched only 10.0 s of the 30.0 s bound after the last heal (at +10.0 s)",
    );
  });

  it("does not count a recovery from before the last heal", () => {
    const result = checkRecovery(
      withRecovery({ recoveredAt: at(9_000), observedUntil: at(80_000) }),
    );
    expect(result.status).toBe("violated");
    expect(result.evidence).toMatchObject({ recoveredAt: null, watchedMs: 70_000 });
  });
});
