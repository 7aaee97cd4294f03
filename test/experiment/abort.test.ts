// Abort conditions (docs/architecture.md §6, "Abort conditions"), on the simulator: a tripped
// condition stops the method, heals every fault, runs the rollbacks, still settles the ledger,
// and the journal, the summary, JUnit and the exit code say aborted with the condition and the
// reading; the same condition on hardened lets the run complete.

import { describe, expect, it } from "vitest";
import type { AbortCondition } from "../../harness/experiment/abort.ts";
import { parseExperiment, type Experiment } from "../../harness/experiment/definition.ts";
import type { Journal } from "../../harness/experiment/journal.ts";
import { checkExperiment, loadExperiment } from "../../harness/experiment/load.ts";
import { runOnSimulator } from "../../harness/experiment/sim-run.ts";
import {
  checkExperimentOnTarget,
  loadTarget,
  targetMemoryCapMb,
} from "../../harness/target/load.ts";
import { formatJUnit } from "../../harness/report/junit.ts";
import { formatSummary } from "../../harness/report/summary.ts";
import { smallExperiment, spillwayRunSim } from "../invariants/small-experiment.ts";

async function nov14With(abort: AbortCondition[]): Promise<Experiment> {
  const experiment = await loadExperiment("nov14-2024");
  // A rollback, to see that rollbacks run after an abort.
  return { ...experiment, abort, rollbacks: [{ kind: "process.restart", service: "pusher" }] };
}

async function nov14On(profile: string, abort: AbortCondition[]): Promise<Journal> {
  return (await runOnSimulator(await nov14With(abort), { profile, seed: 1 })).journal;
}

/** Every fault the method injected was healed after it, and no fault step ran after the abort. */
function expectHealedAfter(journal: Journal): void {
  const injected = journal.steps.filter((step) => step.phase === "method");
  const healed = journal.steps.filter((step) => step.phase === "heal");
  expect(healed.map((step) => step.name).sort()).toEqual(
    injected.map((step) => step.name.replace(/ \(.*\)$/, "")).sort(),
  );
  const trippedAt = journal.abort!.reading.atMs;
  for (const step of injected) expect(step.startedMs).toBeLessThanOrEqual(trippedAt);
  expect(journal.steps.some((step) => step.phase === "rollback" && step.ok)).toBe(true);
}

describe("abort conditions on the simulator", () => {
  it("legacy-2024's flood trips buffer above 1.5 × its bound: faults healed, rollbacks run, the ledger kept", async () => {
    const journal = await nov14On("legacy-2024", [{ buffer: { aboveBoundShare: 1.5 } }]);
    expect(journal.status).toBe("aborted");
    expect(journal.asExpected).toBe(false);
    const { condition, text, reading } = journal.abort!;
    expect(condition).toEqual({ buffer: { aboveBoundShare: 1.5 } });
    expect(text).toBe("buffer above 1.5 × its bound");
    expect(reading).toMatchObject({ unit: "bytes", service: "buffer", bound: 1.5 * 192 * 1024 });
    expect(reading.value).toBeGreaterThan(reading.bound);
    expectHealedAfter(journal);
    // The method's later steps (the restarts at 25 s and 27 s) never ran.
    expect(journal.steps.some((step) => step.name.startsWith("process.restart ("))).toBe(false);
    expect(journal.verdict?.ledger.produced).toBeGreaterThan(0);
    expect(formatSummary([journal])).toContain(
      "[legacy-2024] aborted: buffer above 1.5 × its bound",
    );
    expect(formatJUnit([journal])).toContain('message="run aborted: buffer above 1.5 × its bound');
  });

  it("hardened holds its bound: the same condition lets the run complete", async () => {
    const journal = await nov14On("hardened", [{ buffer: { aboveBoundShare: 1.5 } }]);
    expect(journal.status).toBe("completed");
    expect(journal.abort).toBeUndefined();
    expect(journal.asExpected).toBe(true);
  });

  it("silent loss trips on legacy-2024's empty config, and not on hardened", async () => {
    const abort = [{ silentLoss: { aboveEvents: 50, olderThan: 5_000 } }];
    const legacy = await nov14On("legacy-2024", abort);
    expect(legacy.status).toBe("aborted");
    expect(legacy.abort!.reading).toMatchObject({ unit: "events", bound: 50 });
    expect(legacy.abort!.reading.value).toBeGreaterThan(50);
    // What tripped it was lost indeed: the settled ledger finds at least that many.
    expect(legacy.verdict!.ledger.lost).toBeGreaterThanOrEqual(legacy.abort!.reading.value);
    const hardened = await nov14On("hardened", abort);
    expect(hardened).toMatchObject({ status: "completed", asExpected: true });
  });

  it("a second silent-loss condition is read too, not starved by the first one's pace", async () => {
    const abort = [
      { silentLoss: { aboveEvents: 1_000_000, olderThan: 5_000 } },
      { silentLoss: { aboveEvents: 50, olderThan: 5_000 } },
    ];
    const legacy = await nov14On("legacy-2024", abort);
    expect(legacy.status).toBe("aborted");
    expect(legacy.abort!.condition).toEqual(abort[1]);
  });

  it("memory above 0.99 × the buffer's cap trips on the simulator's memory model before the cap kills it", async () => {
    const journal = await nov14On("legacy-2024", [
      { memory: { service: "buffer", aboveCapShare: 0.99 } },
    ]);
    expect(journal.status).toBe("aborted");
    expect(journal.abort!.reading).toMatchObject({ unit: "MB", service: "buffer" });
    expect(journal.abort!.reading.bound).toBeCloseTo(0.99 * 41.25);
    expect(journal.notes.map((note) => note.message)).not.toContain(
      "buffer restarted with its data wiped",
    );
  });

  it("a service kept down by process.kill trips unhealthy longer than 3 s", async () => {
    const experiment = smallExperiment("abort-unhealthy", {
      duration: "15s",
      method: [{ at: "1s", fault: { kind: "process.kill", service: "pusher" } }],
      abort: [{ unhealthy: { service: "pusher", longerThan: "3s" } }],
    });
    const { journal } = await runOnSimulator(experiment, { profile: "hardened", seed: 1 });
    expect(journal.status).toBe("aborted");
    expect(journal.abort!.reading).toMatchObject({ unit: "ms", service: "pusher", bound: 3_000 });
    expect(journal.abort!.reading.value).toBeGreaterThan(3_000);
    // Tripped within a health reading of the bound, long before the run's 15 s.
    expect(journal.abort!.reading.atMs).toBeLessThan(1_000 + 2_000 + 3_000 + 2_000);
    expect(journal.steps.filter((step) => step.phase === "heal").map((step) => step.name)).toEqual([
      "process.kill",
    ]);
    expect(journal.notes.map((note) => note.message)).toContain("pusher restarted");
    expect(journal.verdict).not.toBeNull();
  });

  it("the schema names the path and the value of a bad condition, and an unknown service", () => {
    const base = { name: "x", description: "x", duration: "10s" };
    expect(() =>
      parseExperiment({ ...base, abort: [{ buffer: { aboveBoundShare: -1 } }] }, "x.json"),
    ).toThrow(/abort\[0\]\.buffer\.aboveBoundShare: -1: expected a share above 0/);
    expect(() =>
      parseExperiment(
        {
          ...base,
          abort: [
            { buffer: { aboveBoundShare: 2 }, unhealthy: { service: "buffer", longerThan: 1 } },
          ],
        },
        "x",
      ),
    ).toThrow(/abort\[0\]: .*expected exactly one of silentLoss, buffer, unhealthy, memory/);
    expect(() =>
      parseExperiment(
        { ...base, abort: [{ unhealthy: { service: "buffer", longerThan: "soon" } }] },
        "x",
      ),
    ).toThrow(/abort\[0\]\.unhealthy\.longerThan: "soon": expected a duration/);
    const unknown = parseExperiment(
      { ...base, abort: [{ unhealthy: { service: "bufer", longerThan: "5s" } }] },
      "x",
    );
    expect(() => checkExperiment(unknown, "x")).toThrow(
      /abort\[0\]\.unhealthy\.service: "bufer": expected one of config, sink-0, sink-1, buffer/,
    );
    const uncapped = parseExperiment(
      { ...base, abort: [{ memory: { service: "pusher", aboveCapShare: 0.9 } }] },
      "x",
    );
    expect(() => checkExperiment(uncapped, "x")).toThrow(
      /abort\[0\]\.memory\.service: "pusher": has no memory cap/,
    );
  });

  it("on a target: silentLoss is refused, buffer needs a backlog bound, memory takes memoryMbMax", async () => {
    const experiment = await loadExperiment("targets/rsyslog-relay/relay-kill.yaml");
    const rsyslog = await loadTarget("targets/rsyslog-relay/target.yaml");
    const redis = await loadTarget("targets/redis-streams/target.yaml");
    const withAbort = (abort: AbortCondition[]) => ({ ...experiment, abort });
    expect(() =>
      checkExperimentOnTarget(
        withAbort([{ silentLoss: { aboveEvents: 1, olderThan: 5_000 } }]),
        rsyslog,
        "x",
      ),
    ).toThrow(
      /abort\[0\]\.silentLoss: a target's deliveries and declared drops are settled only after the run/,
    );
    expect(() =>
      checkExperimentOnTarget(withAbort([{ buffer: { aboveBoundShare: 1 } }]), redis, "x"),
    ).toThrow(/abort\[0\]\.buffer: target redis-streams declares no backlog bound/);
    const accepted = withAbort([
      { buffer: { aboveBoundShare: 1 } },
      { memory: { service: "relay-a", aboveCapShare: 0.9 } },
      { unhealthy: { service: "relay-b", longerThan: 1_000 } },
    ]);
    expect(checkExperimentOnTarget(accepted, rsyslog, "x")).toBe(accepted);
    expect(targetMemoryCapMb(accepted, rsyslog, "relay-a")).toBe(256);
  });

  it("spillway run exits 4 when a condition trips, and says so", async () => {
    const experiment = smallExperiment("abort-cli", {
      duration: "12s",
      method: [{ at: "1s", fault: { kind: "process.kill", service: "pusher" } }],
      abort: [{ unhealthy: { service: "pusher", longerThan: "2s" } }],
    });
    const { exitCode, stdout, journal } = await spillwayRunSim(experiment);
    expect(exitCode).toBe(4);
    expect(stdout).toContain("aborted: pusher unhealthy longer than 2s: pusher:");
    expect(journal.abort?.condition).toEqual({
      unhealthy: { service: "pusher", longerThan: 2_000 },
    });
  });
});
