// Running the shipped targets' experiments in tests (shipped-*.test.ts): on real rsyslog and
// redis-server (Debian's packages, installed by .ci/run).

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { harnessIdentity } from "../../harness/runtime/harness-identity.ts";
import type { Journal } from "../../harness/experiment/journal.ts";
import { loadExperimentAndTarget } from "../../harness/target/load.ts";
import { runOnTarget } from "../../harness/target/run.ts";

export const available = existsSync("/usr/sbin/rsyslogd") && existsSync("/usr/bin/redis-server");
if (!available && process.env.CI !== undefined)
  throw new Error("rsyslog and redis-server must be installed on CI (.ci/run installs them)");

export const RUN_TIMEOUT_MS = 120_000;

export async function run(file: string, variant?: string): Promise<Journal> {
  const { experiment, target } = await loadExperimentAndTarget(file);
  return runOnTarget(experiment, target!, { seed: 1, ...(variant ? { variant } : {}) });
}

export function lossEvidence(journal: Journal) {
  const result = journal.verdict!.invariants["no-silent-loss"]!;
  return result.evidence as {
    lost: number;
    lostRanges: Array<{ seqFrom: number; seqTo: number; faults: string[] }>;
    lostOutsideFaultWindows: number;
  };
}

/** Run directories made by this process (each run removes its own) that are still on disk. */
export function leftoverRunDirs(before: Set<string>): string[] {
  return readdirSync(tmpdir()).filter((name) => {
    if (!name.startsWith("spillway-run-") || before.has(name)) return false;
    try {
      const owner = JSON.parse(readFileSync(path.join(tmpdir(), name, "harness.json"), "utf8"));
      return owner.harness === harnessIdentity();
    } catch {
      return false;
    }
  });
}
