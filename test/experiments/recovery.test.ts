// Recovery is watched from the last heal and holds only when the backlog — buffered bytes and
// acknowledged events not yet delivered or declared — is back to its pre-fault level with
// every service healthy, within the bound.

import { describe, expect, it } from "vitest";
import {
  firstRecovered,
  preFaultLevel,
  recoveryThresholds,
  type BacklogReading,
} from "../../harness/experiment/phases/recovery.ts";

const reading = (
  at: number,
  bytes: number,
  owedEvents: number,
  healthy = true,
): BacklogReading => ({
  at,
  bytes,
  owedEvents,
  healthy,
});

describe("recovery readings", () => {
  const readings = [
    reading(1_000, 10_000, 100),
    reading(2_000, 20_000, 200),
    // the fault at 3 s: the backlog grows
    reading(4_000, 5_000_000, 9_000),
    reading(6_000, 4_000_000, 7_000),
    // healed at 6.5 s: it drains, slowly
    reading(7_000, 2_000_000, 3_000),
    reading(8_000, 30_000, 400, false),
    reading(9_000, 30_000, 400),
    reading(10_000, 20_000, 250),
  ];

  it("takes the pre-fault level from the readings before the first fault", () => {
    expect(preFaultLevel(readings, 3_000)).toEqual({ bytes: 20_000, owedEvents: 200 });
  });

  it("is the first reading after the last heal back to that level with every service healthy", () => {
    const thresholds = recoveryThresholds(preFaultLevel(readings, 3_000));
    // 8 s is back down but a service is unhealthy; 9 s owes 400 events, over 1.5 × 200 + 20.
    expect(firstRecovered(readings, 6_500, thresholds)?.at).toBe(10_000);
  });

  it("is not reached while the backlog stays up, however long it is watched", () => {
    const stuck = readings.map((entry) =>
      entry.at > 6_000 ? { ...entry, bytes: 3_000_000 } : entry,
    );
    expect(
      firstRecovered(stuck, 6_500, recoveryThresholds(preFaultLevel(stuck, 3_000))),
    ).toBeNull();
  });
});

// End to end (a backlog that never drains, on legacy-2024's config-flap, and hardened draining
// the same flaps): test/invariants/violated-end-to-end.test.ts.
