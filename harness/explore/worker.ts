// An explore worker thread (docs/simulator.md, "Workers and shards"): runs the schedules the
// main thread sends, one at a time, each on a fresh simulation, and sends back what the drawing
// phase keeps of it (no journal). An error outside a run (the run's own are its outcome) is
// sent back as the job's error, which fails the exploration as a harness failure.

import { parentPort, workerData } from "node:worker_threads";
import { exploreScenario } from "./scenario.ts";
import type { ScheduleStep } from "./schedule.ts";
import { drawnOutcome, runSchedule, type RunSetting } from "./schedule-run.ts";
import type { WorkerAnswer } from "./pool.ts";

if (parentPort === null) throw new Error("harness/explore/worker.ts runs as a worker thread only");
const port = parentPort;
const setting = workerData as RunSetting;
const scenario = exploreScenario();

port.on("message", (steps: ScheduleStep[]) => {
  runSchedule(scenario, steps, setting).then(
    (outcome) => port.postMessage({ outcome: drawnOutcome(outcome) } satisfies WorkerAnswer),
    (error: unknown) =>
      port.postMessage({
        error: error instanceof Error ? (error.stack ?? error.message) : String(error),
      } satisfies WorkerAnswer),
  );
});
