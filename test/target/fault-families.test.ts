// Every fault family that applies works on a target's software (docs/targets.md, "Faults"):
// pause, restart and a memory cap on a real redis-server's process group, and a load fault on
// the workload, in one short run; sink faults on the http recorders that play the reference
// pipeline's sinks; and sink faults on an egress that answers no push are refused when the
// experiment is loaded.

import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadExperimentAndTarget } from "../../harness/target/load.ts";
import { runOnTarget } from "../../harness/target/run.ts";
import { available } from "./shipped-support.ts";
import { useTempDir } from "../support/temp-dir.ts";

const scratch = useTempDir("spillway-fault-families-");

const TARGET = path.resolve("targets/redis-streams/target.yaml");

function experimentFile(name: string, method: string[], more: string[] = []): string {
  const file = path.join(scratch, `${name}.yaml`);
  writeFileSync(
    file,
    [
      `name: ${name}`,
      "description: fault families on a target",
      `target: ${TARGET}`,
      "workload: { tenants: 2, datasets: [app], eventsPerSecond: 1000, batchSize: 50 }",
      "duration: 7s",
      "warmup: 1s",
      "method:",
      ...method.map((step) => `  - ${step}`),
      "drain: { timeout: 15s, quiet: 2s }",
      "verdict: { indeterminateShareMax: 1 }",
      "invariants: [no-silent-loss, recovery]",
      ...more,
    ].join("\n"),
  );
  return file;
}

describe.skipIf(!available)("fault families on a target", () => {
  it("pauses, restarts and memory-caps redis's process group, and surges the workload", async () => {
    const file = experimentFile("families", [
      "{ at: 0s, for: 1s, fault: { kind: process.pause, service: redis } }",
      "{ at: 1500ms, fault: { kind: process.restart, service: redis } }",
      "{ at: 2500ms, for: 1s, fault: { kind: process.memory-cap, service: redis, megabytes: 1 } }",
      "{ at: 4s, for: 1s, fault: { kind: load.surge, multiplier: 2 } }",
    ]);
    const { experiment, target } = await loadExperimentAndTarget(file);
    const journal = await runOnTarget(experiment, target!, { seed: 1, variant: "durable" });
    expect(journal.status, journal.error).toBe("completed");
    const method = journal.steps.filter((step) => step.phase === "method");
    expect(method.map((step) => [step.name, step.ok])).toEqual([
      ["process.pause", true],
      ["process.restart", true],
      ["process.memory-cap", true],
      ["load.surge", true],
    ]);
    const notes = journal.notes.map((note) => note.message).join("\n");
    expect(notes).toContain("redis paused");
    expect(notes).toContain("redis resumed");
    expect(notes).toContain("redis capped at 1 MB");
    expect(notes).toContain("redis restarted after the memory cap killed it");
    expect(notes).toContain("traffic ×2");
    // Redis came back each time, durable: whatever it acknowledged reached the recorder.
    expect(journal.verdict!.ledger.lost).toBe(0);
    expect(journal.verdict!.invariants.recovery!.status).toBe("held");
  }, 90_000);

  it("switches sink faults on an http egress: sink-outage on the reference pipeline as a target", async () => {
    const { experiment, target } = await loadExperimentAndTarget(
      "sink-outage",
      "targets/reference/target.yaml",
    );
    const journal = await runOnTarget(experiment, target!, { seed: 1, variant: "legacy-2024" });
    expect(journal.status, journal.error).toBe("completed");
    const notes = journal.notes.map((note) => note.message).join("\n");
    expect(notes).toContain('sink-0 fault set: {"mode":"error","status":503}');
    expect(notes).toContain("sink-0 fault cleared");
    // legacy-2024's pusher acked before delivery and gave up: the 503s cost events, silently.
    expect(journal.verdict!.invariants["no-silent-loss"]!.status).toBe("violated");
    expect(journal.asExpected).toBe(true);
  }, 90_000);

  it("refuses a sink fault on an egress that answers no push", async () => {
    const file = experimentFile("sink-on-redis", [
      "{ at: 1s, for: 1s, fault: { kind: sink.error, sink: recorder } }",
    ]);
    await expect(loadExperimentAndTarget(file)).rejects.toThrow(
      /method\[0\]\.fault\.sink: "recorder": sink\.error acts on an http egress's answers/,
    );
  });

  it("refuses a sink fault on such an egress among the rollbacks too", async () => {
    const file = experimentFile(
      "sink-rollback-on-redis",
      ["{ at: 1s, for: 1s, fault: { kind: process.pause, service: redis } }"],
      ["rollbacks:", "  - { kind: sink.error, sink: recorder }"],
    );
    await expect(loadExperimentAndTarget(file)).rejects.toThrow(
      /rollbacks\[0\]\.sink: "recorder": sink\.error acts on an http egress's answers/,
    );
  });
});
