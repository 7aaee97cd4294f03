// The reference pipeline described as a target (targets/reference/target.yaml, docs/targets.md,
// "The reference pipeline as a target"): one abstraction, not two. Its routes make the built-in
// topology's jobs; its sinks are HTTP recorders that record the destination from the path as the
// reference sink does; and nov14-2024, compressed in time, run through it on each variant comes
// out in the categories the experiment's own `expect:` states, which the built-in topology gives
// (test/experiments/shipped.test.ts runs it there in full).

import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import type { Experiment } from "../../harness/experiment/definition.ts";
import { loadExperiment } from "../../harness/experiment/load.ts";
import { referenceJobs } from "../../harness/experiment/reference-topology.ts";
import { checkExperimentOnTarget, loadTarget, parseTarget } from "../../harness/target/load.ts";
import { routeJobs, runOnTarget } from "../../harness/target/run.ts";
import { resolveWorkloadOptions } from "../../harness/workload/options.ts";
import { plannedJobs } from "../../harness/workload/tenants.ts";
import { events, freeLoopbackPort, tally, token, useRecorders } from "./recorders/support.ts";

const TARGET = "targets/reference/target.yaml";
const recorders = useRecorders();

/**
 * nov14-2024 with its story kept and its clock compressed: the job for a new dataset, the
 * revert, the fail-open flood, the forwarder's restart and the buffer's reset, all within 14 s,
 * and a lower memory cap so that the flood kills the legacy buffer before its reset is due.
 */
function compressed(nov14: Experiment): Experiment {
  const [addJob, revert, forwarderRestart, bufferReset] = nov14.method;
  const cap = 160;
  return {
    ...nov14,
    duration: 14_000,
    warmup: 500,
    steadyState: { ...nov14.steadyState, deliveringWithin: 1_000 },
    topology: { ...nov14.topology, memoryCapMb: { buffer: cap }, maxBufferMemoryMb: cap },
    method: [
      { ...addJob!, at: 500 },
      { ...revert!, at: 2_500 },
      // The legacy buffer dies about 3 s after the revert here; its reset waits 7.5 s for it.
      { ...forwarderRestart!, at: 9_000 },
      { ...bufferReset!, at: 10_000 },
    ],
    recoveryBound: 20_000,
  };
}

/** Component processes of this target still running (their command line names its path). */
function componentsLeft(): number[] {
  const entry = `${path.resolve("targets/reference")}/../../pipeline/host/main.ts`;
  return readdirSync("/proc")
    .filter((name) => /^\d+$/.test(name))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(entry);
      } catch {
        return false;
      }
    })
    .map(Number);
}

describe("the reference pipeline as a target", () => {
  it("deals the workload's job tenants over its sinks as the built-in topology deals its jobs", async () => {
    const target = await loadTarget(TARGET);
    const nov14 = await loadExperiment("nov14-2024");
    const builtIn = referenceJobs({
      sinks: nov14.topology.sinks,
      jobs: plannedJobs(resolveWorkloadOptions(nov14.workload)),
    });
    expect(routeJobs(target, nov14)).toEqual(builtIn);
    expect(builtIn.map((job) => job.destination)).toContain("sink-1/t036.firewall_events");
  });

  it("refuses a half-played reference pipeline, naming the service and what is missing", () => {
    const service = (name: string, component?: string) => ({
      name,
      ...(component === undefined ? {} : { component }),
      process: { command: ["node", "main.ts", name] },
      ports: ["http"],
      ready: { tcp: "http" },
    });
    const input = {
      name: "half",
      description: "a buffer and a relay, no forwarder",
      services: [service("buffer", "buffer"), service("relay"), service("other", "buffer")],
      links: [{ from: "workload", to: "relay:http" }],
      ingress: { link: "workload->relay", kind: "http" },
      egresses: [{ name: "sink-0", kind: "http", destinationFromPath: true }],
      routes: [{ egress: ["sink-0"], match: { jobTenants: true, tenants: ["t000"] } }],
    };
    let message = "";
    try {
      parseTarget(input, path.resolve("target.yaml"));
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/services\[2\]\.component: "buffer": already played by buffer/);
    expect(message).toMatch(/plays buffer of the reference pipeline; expected all of forwarder/);
    expect(message).toMatch(/services\[1\]\.component: missing/);
    expect(message).toMatch(/routes\[0\]\.match\.jobTenants: true: expected either tenants/);
  });

  it("has HTTP recorders record each request's destination from its path, as the reference sink does", async () => {
    const listenPort = await freeLoopbackPort();
    const recorder = await recorders.start(
      { kind: "http", listenPort, destinationFromPath: true },
      "sink-0",
    );
    const ids = events(4, { tenant: "t036", dataset: "http_requests", producer: "edge-0" });
    const post = (where: string, body: string) =>
      fetch(`http://127.0.0.1:${listenPort}${where}`, { method: "POST", body });
    const answers = await Promise.all([
      post(
        "/ingest/t036.http_requests",
        ids
          .slice(0, 2)
          .map((id) => token(id))
          .join("\n"),
      ),
      post(
        "/ingest/t036.firewall_events",
        ids
          .slice(2)
          .map((id) => token(id))
          .join("\n"),
      ),
      post("/", token(ids[0]!)),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 404]);
    const deliveries = await recorder.deliveries();
    const at = (destination: string) =>
      tally(deliveries.filter((delivery) => delivery.destination === destination)).whole.size;
    expect(at("sink-0/t036.http_requests")).toBe(2);
    expect(at("sink-0/t036.firewall_events")).toBe(2);
    expect(deliveries.every((delivery) => delivery.destination !== "sink-0/all")).toBe(true);
  });

  it.each(["legacy-2024", "hardened"])(
    "nov14-2024, compressed, gives on %s the categories the experiment expects of the built-in topology",
    { timeout: 120_000 },
    async (variant) => {
      const target = await loadTarget(TARGET);
      const experiment = checkExperimentOnTarget(
        compressed(await loadExperiment("nov14-2024")),
        target,
        "nov14-2024 (compressed)",
      );
      const journal = await runOnTarget(experiment, target, { seed: 1, variant });
      expect(journal.status, journal.error ?? JSON.stringify(journal.notes)).toBe("completed");
      const categories = Object.fromEntries(
        journal.outcomes.map((outcome) => [outcome.invariant, outcome.actual]),
      );
      const expected = Object.fromEntries(
        journal.outcomes.map((outcome) => [outcome.invariant, outcome.expected]),
      );
      expect(categories, JSON.stringify(journal.verdict?.invariants)).toEqual(expected);
      expect(journal.outcomes).toHaveLength(5);
      // Config faults acted on the target's config service: its own timeline agrees.
      expect(journal.verdict?.jobTimeline?.crossCheck).toMatchObject({ agrees: true });
      // Every delivery reached the destination of its job (recorded from the pusher's path).
      expect(journal.verdict?.ledger.misdelivered).toBe(0);
      if (variant === "hardened")
        expect(journal.verdict?.ledger.delivered).toBe(journal.verdict?.ledger.expected);
      expect(componentsLeft()).toEqual([]);
    },
  );
});
