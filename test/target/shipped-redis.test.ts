// targets/redis-streams end to end on a real redis-server: a SIGKILL loses acknowledged entries
// on volatile and none on durable; maxmemory keeps memory within the target's bound.

import { describe, expect, it } from "vitest";
import { loadExperimentAndTarget } from "../../harness/target/load.ts";
import { runOnTarget } from "../../harness/target/run.ts";
import { available, RUN_TIMEOUT_MS, run, lossEvidence } from "./shipped-support.ts";

describe.skipIf(!available)("shipped targets", () => {
  it(
    "redis-streams: a SIGKILL loses acknowledged entries on volatile and none on durable",
    async () => {
      const volatile = await run("targets/redis-streams/buffer-kill.yaml", "volatile");
      const durable = await run("targets/redis-streams/buffer-kill.yaml", "durable");
      expect(volatile.verdict!.invariants["no-silent-loss"]!.status).toBe("violated");
      expect(lossEvidence(volatile).lost).toBeGreaterThan(0);
      expect(durable.verdict!.invariants["no-silent-loss"]!.status).toBe("held");
      expect(durable.verdict!.ledger.delivered).toBe(durable.verdict!.ledger.expected);
      expect(volatile.profile).toBe("volatile");
      expect(durable.asExpected && volatile.asExpected).toBe(true);
    },
    2 * RUN_TIMEOUT_MS,
  );
  it(
    "redis-streams: with maxmemory the producer is refused within the bound; without, the bound is broken",
    async () => {
      const capped = await run("targets/redis-streams/memory-bound.yaml", "capped");
      const volatile = await run("targets/redis-streams/memory-bound.yaml", "volatile");
      expect(capped.verdict!.ledger.rejected).toBeGreaterThan(0);
      expect(capped.verdict!.invariants["bounded-buffer"]!.status).toBe("held");
      expect(volatile.verdict!.invariants["bounded-buffer"]!.status).toBe("violated");
      expect(volatile.verdict!.invariants["bounded-buffer"]!.summary).toMatch(
        /redis used .* MB bound/,
      );
    },
    2 * RUN_TIMEOUT_MS,
  );
  it(
    "redis-streams: memory above a share of Redis's cap, read from the OS, aborts the run, and what went in is healed",
    async () => {
      const { experiment, target } = await loadExperimentAndTarget(
        "targets/redis-streams/memory-bound.yaml",
      );
      const braked = {
        ...experiment,
        abort: [{ memory: { service: "redis", aboveCapShare: 0.9 } }],
      };
      const journal = await runOnTarget(braked, target!, { seed: 1, variant: "volatile" });
      expect(journal.status).toBe("aborted");
      // The target's memoryMbMax is 80: the brake is 72 MB of Redis's RSS, read from the OS.
      expect(journal.abort!.reading).toMatchObject({ unit: "MB", bound: 72, service: "redis" });
      expect(journal.abort!.reading.value).toBeGreaterThan(72);
      // The report charts the cap the brake read (harness/experiment/memory-cap.ts).
      const charted = journal.series!.memory.find((entry) => entry.service === "redis");
      expect(charted?.capMb).toBe(80);
      // Redis grows whether or not the consumer's link is down (read entries stay in the
      // stream), so the brake may trip before the fault or during it: either way every fault
      // that went in was healed.
      const injected = journal.steps.filter((step) => step.phase === "method");
      const healed = journal.steps.filter((step) => step.phase === "heal");
      expect(healed.map((step) => step.name)).toEqual(
        injected.map((step) => step.name.replace(/ \(.*\)$/, "")),
      );
      // The ledger is still settled after the brake: what was produced is accounted for.
      expect(journal.verdict!.ledger.produced).toBeGreaterThan(0);
    },
    RUN_TIMEOUT_MS,
  );
});
