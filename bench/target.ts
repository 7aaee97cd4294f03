// `npm run bench -- target`: events per second through two rsyslog relays into Spillway's syslog
// recorder, every event settled by the ledger (target.rsyslog_events_per_s), beside the workload
// straight into the recorder (target.recorder_events_per_s): the harness must not be the
// bottleneck of what it measures. Prints figures; never passes or fails on speed.

import path from "node:path";
import { parseExperiment } from "../harness/experiment/definition.ts";
import type { Journal } from "../harness/experiment/journal.ts";
import { loadTarget, parseTarget, type LoadedTarget } from "../harness/target/load.ts";
import { runOnTarget } from "../harness/target/run.ts";

/** Offered far above what either path takes, so that each runs at its own limit. */
const OFFERED_EVENTS_PER_S = 2_000_000;
const DURATION_MS = 10_000;

function experiment(name: string) {
  return parseExperiment(
    {
      name,
      description: "throughput, no fault",
      workload: {
        tenants: 8,
        datasets: ["app"],
        eventsPerSecond: OFFERED_EVENTS_PER_S,
        batchSize: 1000,
        concurrency: 4,
        payloadBytes: 64,
      },
      duration: DURATION_MS,
      warmup: 1_000,
      invariants: ["no-silent-loss"],
      drain: { timeout: 60_000, quiet: 5_000 },
    },
    name,
  );
}

/**
 * Delivered events per second over the time the workload ran (from the end of the start phase
 * to the workload's stop, which comes after the hypothesis that follows the method), and
 * whether every event was settled: delivered, none lost.
 */
function rate(journal: Journal): { perSecond: number; settled: boolean } {
  const ledger = journal.verdict?.ledger;
  if (journal.status !== "completed" || ledger === undefined)
    throw new Error(`run ${journal.experiment} ${journal.status}: ${journal.error ?? ""}`);
  const started = journal.steps.find((step) => step.phase === "start");
  const stopped = journal.steps.find((step) => step.name === "stop workload");
  if (started === undefined || stopped === undefined)
    throw new Error(`run ${journal.experiment}: no start or workload stop step in the journal`);
  const seconds = (stopped.startedMs - started.endedMs) / 1000;
  return {
    perSecond: Math.round(ledger.delivered / seconds),
    settled: ledger.lost === 0 && ledger.delivered === ledger.expected,
  };
}

/** The workload straight into a syslog recorder: no third-party software in between. */
function recorderOnly(): LoadedTarget {
  return parseTarget(
    {
      name: "recorder-only",
      description: "the workload straight into Spillway's syslog recorder",
      links: [{ from: "workload", to: "recorder" }],
      ingress: { link: "workload->recorder", kind: "syslog", framing: "octet-counting" },
      egresses: [{ name: "recorder", kind: "syslog", framing: "auto" }],
      routes: [{ egress: "recorder" }],
    },
    path.resolve("bench/recorder-only.yaml"),
  );
}

export async function benchTarget(): Promise<void> {
  const rsyslog = rate(
    await runOnTarget(
      experiment("bench-rsyslog"),
      await loadTarget("targets/rsyslog-relay/target.yaml"),
      { seed: 1 },
    ),
  );
  const recorder = rate(
    await runOnTarget(experiment("bench-recorder"), recorderOnly(), { seed: 1 }),
  );
  console.log(`target.rsyslog_events_per_s=${rsyslog.perSecond}`);
  console.log(`target.rsyslog_all_settled=${rsyslog.settled}`);
  console.log(`target.recorder_events_per_s=${recorder.perSecond}`);
  console.log(`target.recorder_all_settled=${recorder.settled}`);
}
