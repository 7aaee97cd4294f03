// `spillway run --step` in the runner (docs/architecture.md §6, "Game days"): every fault waits
// for the facilitator's go, the journal records each wait, and a wait pauses the method's
// schedule. On the simulator a wait for the outside world stops virtual time.

import { describe, expect, it } from "vitest";
import { parseExperiment, type Experiment } from "../../harness/experiment/definition.ts";
import type { Journal, JournalStep } from "../../harness/experiment/journal.ts";
import type { BeforeFault } from "../../harness/experiment/phases/method.ts";
import { runExperiment } from "../../harness/experiment/runner.ts";
import { runOnSimulator } from "../../harness/experiment/sim-run.ts";
import { createSimulation } from "../../harness/runtime/sim/sim-runtime.ts";

const experiment = parseExperiment(
  {
    name: "step-through",
    description: "three faults a facilitator steps through",
    workload: { tenants: 4, eventsPerSecond: 200, batchSize: 20, payloadBytes: 32 },
    duration: "8s",
    warmup: "1s",
    method: [
      { at: "1s", for: "3s", fault: { kind: "process.pause", service: "pusher" } },
      { at: "2s", for: "1s", fault: { kind: "sink.error", sink: "sink-0" } },
      { at: "5s", fault: { kind: "load.surge", multiplier: 2 } },
    ],
    invariants: ["no-silent-loss", "tenant-isolation"],
  },
  "test",
);

const WAITED = /^waited for the facilitator \d+\.\d s$/;
const isWait = (step: JournalStep) => WAITED.test(step.name);
const stepsOf = (journal: Journal, phases: string[]) =>
  journal.steps.filter((step) => phases.includes(step.phase));

/**
 * A stepped run on hardened on `simulation`, without the simulator's stand-still: virtual time
 * runs while the facilitator waits, as the wall clock does on processes.
 */
function runWhileTimeRuns(
  simulation: ReturnType<typeof createSimulation>,
  stepped: Experiment,
  beforeFault: BeforeFault,
): Promise<Journal> {
  return simulation.run(() =>
    runExperiment(stepped, {
      profile: "hardened",
      seed: 3,
      runtime: { ...simulation.runtime, awaitOutside: undefined },
      beforeFault,
    }),
  );
}

describe("stepping through the method", () => {
  it("on the simulator, injects each fault only after its go, in order, journals each wait, and leaves the run as it was without waits", async () => {
    const asked: number[] = [];
    // A facilitator in the real world: the go comes after a real delay.
    const beforeFault: BeforeFault = ({ index, count }) => {
      expect(count).toBe(3);
      asked.push(index);
      return new Promise((resolve) => setTimeout(resolve, 20));
    };
    const stepped = (
      await runOnSimulator(experiment, { profile: "hardened", seed: 3, beforeFault })
    ).journal;
    const plain = (await runOnSimulator(experiment, { profile: "hardened", seed: 3 })).journal;

    expect(asked).toEqual([0, 1, 2]);
    const method = stepsOf(stepped, ["method", "facilitator"]).map((step) =>
      isWait(step) ? "wait" : step.name.split(" ")[0],
    );
    expect(method).toEqual(["wait", "process.pause", "wait", "sink.error", "wait", "load.surge"]);
    expect(stepped.steps.filter(isWait).every((step) => step.ok)).toBe(true);
    // Virtual time stood still while waiting: the same run, step for step, and the same verdict.
    expect(stepped.steps.filter((step) => !isWait(step))).toEqual(plain.steps);
    expect(stepped.verdict?.ledger).toEqual(plain.verdict?.ledger);
    // The waits are not faults: the fault windows, with their targets, are the plain run's.
    expect(stepped.series?.faults).toEqual(plain.series?.faults);
  });

  it("a wait pauses the schedule: later faults keep their spacing, pending heals and the workload's end move by the wait", async () => {
    const simulation = createSimulation({ seed: 3 });
    const waitMs = 60_000;
    // A facilitator who talks for a minute of the run's own time before the second fault.
    const beforeFault: BeforeFault = ({ index }) =>
      index === 1 ? simulation.runtime.clock.sleep(waitMs) : Promise.resolve();
    const journal = await runWhileTimeRuns(simulation, experiment, beforeFault);
    const faults = stepsOf(journal, ["method", "heal"]).filter((step) => !isWait(step));
    expect(faults.map((step) => `${step.phase} ${step.name.split(" ")[0]}`)).toEqual([
      "method process.pause",
      "method sink.error",
      "heal sink.error",
      "heal process.pause",
      "method load.surge",
      "heal load.surge", // by healAll, after the method
    ]);
    const [pause, error, errorHealed, pauseHealed, surge] = faults.map((step) => step.startedMs);
    const near = (actual: number, expected: number) =>
      expect(Math.abs(actual - expected)).toBeLessThan(300);
    near(error! - pause!, 1_000 + waitMs);
    near(errorHealed! - error!, 1_000);
    near(pauseHealed! - pause!, 3_000 + waitMs);
    near(surge! - pause!, 4_000 + waitMs);
    // The workload ran its 8 s plus the wait before it stopped.
    const stop = journal.steps.find((step) => step.name === "stop workload")!;
    expect(stop.startedMs).toBeGreaterThanOrEqual(8_000 + waitMs);
  });

  it(
    "an abort condition that trips while waiting for a go ends the wait at once: healed, rolled back, drained, judged, aborted",
    { timeout: 120_000 },
    async () => {
      // Before this, only Ctrl-C ended a wait: the run waited for a go that never came, here
      // until the simulation passed its limit of virtual time.
      const simulation = createSimulation({ seed: 3, maxVirtualMs: 120_000 });
      const aborting = parseExperiment(
        {
          ...experiment,
          name: "abort-while-waiting",
          method: [
            { at: 1_000, fault: { kind: "process.kill", service: "pusher" } },
            { at: 2_000, fault: { kind: "load.surge", multiplier: 2 } },
          ],
          rollbacks: [{ kind: "load.surge", multiplier: 1 }],
          abort: [{ unhealthy: { service: "pusher", longerThan: 2_000 } }],
        },
        "test",
      );
      let stopped: AbortSignal | null = null;
      // A go for the kill at once; for the surge, never.
      const beforeFault: BeforeFault = ({ index }, signal) => {
        if (index === 0) return Promise.resolve();
        stopped = signal;
        return new Promise(() => {});
      };
      const journal = await runWhileTimeRuns(simulation, aborting, beforeFault);
      expect(journal.status).toBe("aborted");
      expect(journal.abort?.condition).toEqual({
        unhealthy: { service: "pusher", longerThan: 2_000 },
      });
      const [, secondWait] = journal.steps.filter(isWait);
      expect(secondWait).toMatchObject({
        phase: "facilitator",
        ok: false,
        detail: "an abort condition tripped",
      });
      // The wait ended when the condition tripped, not later.
      expect(secondWait!.endedMs).toBeLessThanOrEqual(journal.abort!.reading.atMs + 500);
      expect((stopped as AbortSignal | null)?.aborted).toBe(true);
      const names = (phase: string) =>
        journal.steps.filter((step) => step.phase === phase).map((step) => step.name.split(" ")[0]);
      expect(names("method")).toEqual(["process.kill"]);
      expect(names("heal")).toEqual(["process.kill"]);
      expect(journal.steps.some((step) => step.phase === "rollback" && step.ok)).toBe(true);
      expect(journal.steps.some((step) => step.name === "drain")).toBe(true);
      expect(journal.verdict).not.toBeNull();
    },
  );
});
