// The incident replay on containers, through the command line, gives the verdict categories it
// gives on processes: legacy-2024 loses events silently and breaks its buffer bound; hardened
// holds every invariant.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import type { Journal } from "../../harness/experiment/journal.ts";
import { describeContainers, spillway } from "./support.ts";

// Made only when the suite runs: a skipped file runs no hooks, and would leave it behind.
let directory = "";

function journal(profile: string): Journal {
  return JSON.parse(readFileSync(path.join(directory, `out.${profile}.json`), "utf8")) as Journal;
}

describeContainers("spillway run nov14-2024 --runtime container", () => {
  beforeAll(() => {
    directory = mkdtempSync(path.join(tmpdir(), "spillway-container-nov14-"));
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  it(
    "--compare legacy-2024,hardened: legacy violates no-silent-loss and bounded-buffer, hardened holds all; exit 0",
    { timeout: 360_000 },
    async () => {
      const result = await spillway(
        [
          "run",
          "nov14-2024",
          "--runtime",
          "container",
          "--compare",
          "legacy-2024,hardened",
          "--journal",
          path.join(directory, "out.json"),
        ],
        { timeout: 340_000 },
      );
      expect(result.exitCode, `${result.stdout}\n${result.stderr}`).toBe(0);
      const legacy = journal("legacy-2024");
      expect(legacy.status).toBe("completed");
      expect(legacy.verdict?.invariants["no-silent-loss"]?.status).toBe("violated");
      expect(legacy.verdict?.invariants["bounded-buffer"]?.status).toBe("violated");
      expect(legacy.verdict?.ledger.lost).toBeGreaterThan(0);
      const hardened = journal("hardened");
      expect(hardened.status).toBe("completed");
      for (const result of Object.values(hardened.verdict!.invariants))
        expect(result.status, result.summary).toBe("held");
      expect(hardened.verdict?.ledger.lost).toBe(0);
      expect(result.stdout).toMatch(/no-silent-loss\s+violated ✓\s+held ✓/);
    },
  );
});
