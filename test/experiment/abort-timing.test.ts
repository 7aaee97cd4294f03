// A tripped abort condition stops the method whatever the timing (docs/architecture.md §6, "Abort
// conditions"): a trip during the last slice of a wait, or just before a fault is due, lets no
// further fault in. A clock whose sleeps move time at once, and a trip made inside one of them.

import { describe, expect, it } from "vitest";
import type { Clock } from "../../pipeline/core/seam.ts";
import { parseExperiment } from "../../harness/experiment/definition.ts";
import { runMethod } from "../../harness/experiment/phases/method.ts";
import { AbortTripped, RunState } from "../../harness/experiment/run-state.ts";
import { directLinks } from "../../harness/runtime/links.ts";
import type { Runtime } from "../../harness/runtime/runtime.ts";

const TRIP = {
  condition: { buffer: { aboveBoundShare: 1.5 } },
  text: "buffer above 1.5 × its bound",
  reading: { value: 3, bound: 2, unit: "bytes" as const, atMs: 0 },
};

/** A run state on a clock that trips the abort when a sleep first ends at or past `tripAtMs`. */
function rig(tripAtMs: number) {
  let now = 0;
  let state: RunState | null = null;
  const clock: Clock = {
    now: () => now,
    sleep: async (ms) => {
      now += ms;
      if (now >= tripAtMs && state!.abort === null) state!.tripAbort(TRIP);
    },
    schedule: () => ({ cancel: () => undefined }),
  };
  const runtime = { kind: "sim", clock, start: () => Promise.reject(new Error("unused")) };
  const experiment = parseExperiment(
    {
      name: "timing",
      description: "a fault due right after the trip",
      duration: "10s",
      method: [{ at: "1s", fault: { kind: "process.kill", service: "buffer" } }],
    },
    "timing",
  );
  state = new RunState(
    experiment,
    { profile: "hardened", seed: 1 },
    runtime as Runtime,
    null,
    directLinks(),
  );
  state.haltOnAbort();
  return state;
}

describe("a trip at the end of a wait", () => {
  it("ends the wait with AbortTripped instead of returning as if nothing happened", async () => {
    // The wait is 1,000 ms in slices; the trip lands in the last one.
    const state = rig(1_000);
    await expect(state.sleep(1_000)).rejects.toBeInstanceOf(AbortTripped);
  });

  it("lets no fault in: the one due at the trip is never injected", async () => {
    const state = rig(1_000);
    await expect(runMethod(state, 0)).rejects.toBeInstanceOf(AbortTripped);
    expect(state.steps.filter((step) => step.phase === "method")).toEqual([]);
    expect(state.active).toEqual([]);
  });
});
