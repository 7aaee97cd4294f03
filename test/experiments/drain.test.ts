// The drain phase alone: a buffer that keeps the same bytes counts as drained (what is left
// belongs to no job), but not while a batch is leased to a pusher: that batch is on its way.

import { describe, expect, it } from "vitest";
import type { Clock } from "../../pipeline/core/seam.ts";
import { parseExperiment } from "../../harness/experiment/definition.ts";
import type { Observer } from "../../harness/experiment/observer.ts";
import { drain } from "../../harness/experiment/phases/drain.ts";
import { RunState } from "../../harness/experiment/run-state.ts";
import type { BufferSample } from "../../harness/invariants/types.ts";
import { directLinks } from "../../harness/runtime/links.ts";
import type { Runtime } from "../../harness/runtime/runtime.ts";

/** A clock whose sleeps move time at once, and a buffer reading every 250 ms of it. */
function drainRig(leasedUntilMs: number) {
  let now = 0;
  const samples: BufferSample[] = [];
  const clock: Clock = {
    now: () => now,
    sleep: async (ms) => {
      const until = now + ms;
      while (now + 250 <= until) {
        now += 250;
        samples.push({
          at: now,
          bytes: 4_096,
          buffers: 1,
          leases: now < leasedUntilMs ? 1 : 0,
          highWaterBytes: 4_096,
          highWaterBytesAt: 0,
          highWaterBuffers: 1,
          highWaterBuffersAt: 0,
        });
      }
      now = until;
    },
    schedule: () => ({ cancel: () => undefined }),
  };
  const runtime = {
    kind: "sim",
    clock,
    start: () => Promise.reject(new Error("unused")),
  } as Runtime;
  const experiment = parseExperiment(
    { name: "drain", description: "drain", duration: "1s", drain: { timeout: "20s" } },
    "drain",
  );
  const state = new RunState(
    experiment,
    { profile: "hardened", seed: 1 },
    runtime,
    null,
    directLinks(),
  );
  state.observer = { bufferSamples: samples } as unknown as Observer;
  return { state, clock };
}

describe("the drain", () => {
  it("accepts bytes that stay put with nothing leased after 3 s of readings", async () => {
    const { state, clock } = drainRig(0);
    expect(await drain(state)).toBe(true);
    expect(clock.now()).toBeLessThan(5_000);
  });

  it("waits while a batch is leased, then accepts once the lease is gone", async () => {
    const { state, clock } = drainRig(9_000);
    expect(await drain(state)).toBe(true);
    expect(clock.now()).toBeGreaterThanOrEqual(12_000);
  });

  it("does not accept a lease that never ends: the drain times out", async () => {
    const { state } = drainRig(Number.POSITIVE_INFINITY);
    expect(await drain(state)).toBe(false);
  });
});
