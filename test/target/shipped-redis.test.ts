// targets/redis-streams end to end on a real redis-server: a SIGKILL loses acknowledged entries
// on volatile and none on durable; maxmemory keeps memory within the target's bound.

import { describe, expect, it } from "vitest";
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
});
