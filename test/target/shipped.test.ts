// The shipped targets, end to end on real rsyslog and redis-server (Debian's packages, installed
// by .ci/run): each experiment comes out as its file expects, the loss is given exactly with its
// ranges inside the fault windows, and nothing of the target is left running afterwards.

import { existsSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import type { Journal } from "../../harness/experiment/journal.ts";
import { loadExperimentAndTarget } from "../../harness/target/load.ts";
import { runOnTarget } from "../../harness/target/run.ts";

const available = existsSync("/usr/sbin/rsyslogd") && existsSync("/usr/bin/redis-server");
if (!available && process.env.CI !== undefined)
  throw new Error("rsyslog and redis-server must be installed on CI (.ci/run installs them)");

const RUN_TIMEOUT_MS = 120_000;

async function run(file: string, variant?: string): Promise<Journal> {
  const { experiment, target } = await loadExperimentAndTarget(file);
  return runOnTarget(experiment, target!, { seed: 1, ...(variant ? { variant } : {}) });
}

function lossEvidence(journal: Journal) {
  const result = journal.verdict!.invariants["no-silent-loss"]!;
  return result.evidence as {
    lost: number;
    lostRanges: Array<{ seqFrom: number; seqTo: number; faults: string[] }>;
    lostOutsideFaultWindows: number;
  };
}

/** Run directories of this process's runs still on disk (each run removes its own). */
function leftoverRunDirs(before: Set<string>): string[] {
  return readdirSync(tmpdir()).filter(
    (name) => name.startsWith("spillway-run-") && !before.has(name),
  );
}

describe.skipIf(!available)("shipped targets", () => {
  it(
    "rsyslog-relay: a reset on the link between the relays loses events silently, inside the fault window",
    async () => {
      const before = new Set(readdirSync(tmpdir()));
      const journal = await run("targets/rsyslog-relay/link-reset.yaml");
      expect(journal.status).toBe("completed");
      expect(journal.target?.acknowledgement).toMatch(/socket/);
      const evidence = lossEvidence(journal);
      expect(journal.verdict!.invariants["no-silent-loss"]!.status).toBe("violated");
      expect(evidence.lost).toBeGreaterThan(0);
      expect(evidence.lost).toBe(journal.verdict!.ledger.lost);
      expect(evidence.lostOutsideFaultWindows).toBe(0);
      expect(evidence.lostRanges[0]!.faults).toContain("network.reset_peer");
      expect(journal.asExpected).toBe(true);
      expect(leftoverRunDirs(before)).toEqual([]);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    "rsyslog-relay: a SIGKILL of a relay holding an in-memory queue loses the queue silently",
    async () => {
      const journal = await run("targets/rsyslog-relay/relay-kill.yaml");
      const evidence = lossEvidence(journal);
      expect(journal.verdict!.invariants["no-silent-loss"]!.status).toBe("violated");
      expect(evidence.lost).toBeGreaterThan(0);
      expect(evidence.lostOutsideFaultWindows).toBe(0);
      expect(journal.asExpected).toBe(true);
    },
    RUN_TIMEOUT_MS,
  );

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
      expect(capped.verdict!.invariants["no-silent-loss"]!.status).toBe("held");
      expect(volatile.verdict!.invariants["bounded-buffer"]!.status).toBe("violated");
      expect(volatile.verdict!.invariants["bounded-buffer"]!.summary).toMatch(
        /redis used .* MB bound/,
      );
    },
    2 * RUN_TIMEOUT_MS,
  );
});
