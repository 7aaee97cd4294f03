// A service's memory cap is one figure (harness/experiment/memory-cap.ts, docs/architecture.md
// §6, "Abort conditions"): the experiment's `topology.memoryCapMb`, the cap that kills, else its
// bound. The `memory` abort condition, the dry-run plan and the report's memory series read the
// same one, also where a bound lies below the cap, while `bounded-buffer` still judges the bound.

import { describe, expect, it } from "vitest";
import type { Experiment } from "../../harness/experiment/definition.ts";
import { loadExperiment } from "../../harness/experiment/load.ts";
import {
  formatPlan,
  referencePlan,
  referenceRun,
  targetPlan,
  type Plan,
} from "../../harness/experiment/plan.ts";
import { runOnSimulator, simulatorScale } from "../../harness/experiment/sim-run.ts";
import { loadTarget, targetMemoryCapMb } from "../../harness/target/load.ts";
import { smallExperiment } from "../invariants/small-experiment.ts";

/** The memory cap the plan gives `service`. */
function plannedCapMb(plan: Plan, service: string): number | undefined {
  const section = plan.sections.find((candidate) => candidate.kind === "services");
  if (section?.kind !== "services") throw new Error("the plan has no services section");
  return section.services.find((entry) => entry.name === service)?.memoryCapMb;
}

// The simulator's buffer uses 40 MB and more (docs/simulator.md): half of any cap here trips.
const SHARE = 0.5;

/**
 * `experiment` on hardened on the simulator, its `memory` condition on the buffer tripped: the
 * cap the condition read, the cap the plan of the same run lists and the series' cap line.
 */
async function bufferCaps(experiment: Experiment) {
  const { journal } = await runOnSimulator(experiment, { profile: "hardened", seed: 1 });
  expect(journal.status).toBe("aborted");
  expect(journal.abort!.reading).toMatchObject({ unit: "MB", service: "buffer" });
  const scaled = simulatorScale(experiment);
  const plan = referencePlan(scaled, [referenceRun(scaled, "hardened", "hardened", undefined)], {
    runtime: "sim",
  });
  const caps = {
    abort: journal.abort!.reading.bound / SHARE,
    plan: plannedCapMb(plan, "buffer"),
    series: journal.series!.memory.find((entry) => entry.service === "buffer")!.capMb,
  };
  return { caps, plan, journal };
}

describe("a service's memory cap", () => {
  it("on the simulator, the buffer capped above its bounded-buffer bound: the abort condition, the plan and the series read the cap", async () => {
    const { caps, plan, journal } = await bufferCaps(
      smallExperiment("memory-cap-over-the-bound", {
        topology: { memoryCapMb: { buffer: 64 }, maxBufferMemoryMb: 48 },
        abort: [{ memory: { service: "buffer", aboveCapShare: SHARE } }],
      }),
    );
    expect(caps).toEqual({ abort: 64, plan: 64, series: 64 });
    expect(formatPlan(plan)).toMatch(/buffer: simulated, .*; memory cap 64 MB/);
    // The bound is judged apart from the cap, as ever.
    const boundedBuffer = journal.verdict!.invariants["bounded-buffer"]!.evidence as {
      memory: { boundMb: number };
    };
    expect(boundedBuffer.memory.boundMb).toBe(48);
  });

  it("on the simulator, the buffer with no cap of its own: its bounded-buffer bound, in all three", async () => {
    const { caps } = await bufferCaps(
      smallExperiment("memory-cap-the-bound", {
        topology: { maxBufferMemoryMb: 50 },
        abort: [{ memory: { service: "buffer", aboveCapShare: SHARE } }],
      }),
    );
    expect(caps).toEqual({ abort: 50, plan: 50, series: 50 });
  });

  it("on a target, the experiment's cap over the service's memoryMbMax: the abort condition's cap and the plan's", async () => {
    const loaded = await loadExperiment("targets/rsyslog-relay/relay-kill.yaml");
    const target = await loadTarget("targets/rsyslog-relay/target.yaml");
    const capped: Experiment = {
      ...loaded,
      topology: { ...loaded.topology, memoryCapMb: { "relay-a": 300 } },
    };
    const plan = targetPlan(capped, target, [target.spec.name]);
    // relay-a declares memoryMbMax 256, the bound bounded-buffer judges; the experiment caps it.
    expect(target.spec.services.find((entry) => entry.name === "relay-a")?.memoryMbMax).toBe(256);
    expect(targetMemoryCapMb(capped, target, "relay-a")).toBe(300);
    expect(plannedCapMb(plan, "relay-a")).toBe(300);
    // Without the experiment's cap, the bound stands in, in both.
    expect(targetMemoryCapMb(loaded, target, "relay-a")).toBe(256);
    expect(plannedCapMb(targetPlan(loaded, target, [target.spec.name]), "relay-a")).toBe(256);
  });
});
