// Exploration finds each flaw that can break an invariant on its own (docs/architecture.md §2; all
// but config.emptyOnNewDataset and forwarder.failOpenStuck, which the hardened safeguards mask) and
// shrinks it to a few faults; and on legacy-2024 with config faults only, the buffer bound is
// broken by the fail-open path of 14 November 2024 (a config error, then a revert), found from
// random schedules. Fixed seeds keep
// the suite deterministic: the same runs as `spillway explore --flaws <flaw> --runs 500 --seed 1`.

import { describe, expect, it } from "vitest";
import { explore } from "../../harness/explore/explore.ts";
import { exploreScenario } from "../../harness/explore/scenario.ts";
import type { Flaw } from "../../pipeline/core/flaws.ts";

const ALONE: Flaw[] = [
  "forwarder.appliesEmptyConfig",
  "forwarder.dropOnBufferTimeout",
  "buffer.limitsUnconfigured",
  "buffer.ackBeforeDurable",
  "pusher.ackBeforeDelivery",
];

describe.each(ALONE)("%s alone", (flaw) => {
  it("is found and shrunk to at most 3 faults", { timeout: 300_000 }, async () => {
    const result = await explore({ profile: "hardened", flaws: [flaw], runs: 500, seed: 1 });
    expect(result.error).toBeNull();
    expect(result.found).toBe(true);
    expect(result.invariant).not.toBeNull();
    expect(result.schedule!.steps.length).toBeGreaterThan(0);
    expect(result.schedule!.steps.length).toBeLessThanOrEqual(3);
    expect(result.schedule).toMatchObject({ flaws: [flaw], invariant: result.invariant });
  });
});

it(
  "legacy-2024 with config faults only breaks the buffer bound through a config error, then a revert",
  { timeout: 300_000 },
  async () => {
    const result = await explore({
      profile: "legacy-2024",
      families: ["config"],
      invariant: "bounded-buffer",
      runs: 500,
      seed: 1,
    });
    expect(result.found).toBe(true);
    // Found among random schedules, not on the first try.
    expect(result.runs).toBeGreaterThan(1);
    const steps = result.schedule!.steps;
    const kinds = steps.map((step) => step.fault.kind);
    // The fail-open path of 14 November 2024: a config error — a job for a never-seen dataset
    // (the generator emits an empty config) or a pushed empty or corrupt config — then a revert,
    // written out or the pushed config's own heal, which reverts; the revert leaves fail-open
    // set and every tenant's events flood the buffer while the workload goes on.
    if (kinds.length === 2) {
      expect(kinds).toEqual(["config.add-job", "config.revert"]);
      expect(exploreScenario().workload.datasets).not.toContain(steps[0]!.fault.dataset);
      expect(steps[0]!.at).toBeLessThanOrEqual(steps[1]!.at);
    } else {
      expect(kinds).toHaveLength(1);
      expect(["config.push-empty", "config.push-corrupt"]).toContain(kinds[0]);
    }
    const evidence = result.evidence as { highWaterBuffers: { value: number; bound: number } };
    expect(evidence.highWaterBuffers.value).toBeGreaterThan(evidence.highWaterBuffers.bound);
  },
);
