// Builds a workload wired to a fake forwarder on a fake clock, and runs it for a virtual while.

import { Workload, type WorkloadStats } from "../../harness/workload/workload.ts";
import type { WorkloadOptionsInput } from "../../harness/workload/options.ts";
import { FakeClock } from "./fake-clock.ts";
import { acceptAll, FakeForwarder, type Script } from "./fake-forwarder.ts";
import { seededRng } from "./seeded-rng.ts";

export const FORWARDER_URL = "http://forwarder.test:4100";

export interface Rig {
  clock: FakeClock;
  forwarder: FakeForwarder;
  workload: Workload;
}

export function rig(
  options: WorkloadOptionsInput,
  script: Script = acceptAll,
  { seed = 1, latencyMs = 5 } = {},
): Rig {
  const clock = new FakeClock();
  const forwarder = new FakeForwarder(clock, script, latencyMs);
  const workload = new Workload(
    { clock, rng: seededRng(seed), net: forwarder },
    FORWARDER_URL,
    options,
  );
  return { clock, forwarder, workload };
}

/** Starts the workload, lets `ms` of virtual time pass, stops it and lets the stop finish. */
export async function runFor({ clock, workload }: Rig, ms: number): Promise<WorkloadStats> {
  workload.start();
  await clock.advance(ms);
  return clock.run(workload.stop(), 3_600_000, 100);
}

/** One batch of `events` events, sent at the first tick (100 ms). */
export function oneBatch(events: number): WorkloadOptionsInput {
  return {
    tenants: 1,
    datasets: ["http_requests"],
    producers: 1,
    eventsPerSecond: events * 10,
    batchSize: events,
    flushIntervalMs: 100,
    maxEvents: events,
  };
}
