// targets/rsyslog-relay end to end on real rsyslog: each experiment comes out as its file expects,
// the loss is given exactly with its ranges inside the fault windows, and nothing is left behind.

import { readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { describe, expect, it } from "vitest";
import {
  available,
  RUN_TIMEOUT_MS,
  run,
  lossEvidence,
  leftoverRunDirs,
} from "./shipped-support.ts";

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
});
