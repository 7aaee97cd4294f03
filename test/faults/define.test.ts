// An active fault heals once, however often and however concurrently it is asked to, and a heal
// that failed is tried again.

import { describe, expect, it } from "vitest";
import { defineFault, healedBy, nothingToHeal } from "../../harness/faults/define.ts";
import { faultParams } from "../../harness/faults/params.ts";

describe("healedBy", () => {
  it("applies the inverse once, also when heal is called again or concurrently", async () => {
    let inverses = 0;
    const fault = healedBy(async () => {
      inverses++;
    });
    await Promise.all([fault.heal(), fault.heal()]);
    await fault.heal();
    expect(inverses).toBe(1);
  });

  it("tries a failed inverse again on the next heal", async () => {
    let attempts = 0;
    const fault = healedBy(async () => {
      attempts++;
      if (attempts === 1) throw new Error("sink unreachable");
    });
    await expect(fault.heal()).rejects.toThrow("sink unreachable");
    await fault.heal();
    await fault.heal();
    expect(attempts).toBe(2);
  });

  it("a fault with nothing to heal heals at once", async () => {
    await expect(nothingToHeal().heal()).resolves.toBeUndefined();
  });
});

describe("defineFault", () => {
  it("refuses a kind not named after its family", () => {
    expect(() =>
      defineFault({
        name: "sink.explode",
        family: "process",
        summary: "a process fault under a sink name",
        params: faultParams({}),
        targets: () => ({}),
        inject: async () => nothingToHeal(),
      }),
    ).toThrow('fault kind "sink.explode" must be named "process.<fault>"');
  });
});
