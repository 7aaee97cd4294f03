// Where the drawing phase runs schedules (docs/simulator.md, "Workers and shards"): on the main
// thread, one at a time, or on a pool of worker threads (harness/explore/worker.ts), one
// schedule per thread at a time. Either way a schedule's outcome is the same: every run is a
// fresh simulation of the same seed. A worker that fails (an uncaught error, an exit) fails
// every run asked of the pool from then on; `close` terminates every thread.

import { Worker } from "node:worker_threads";
import { exploreScenario } from "./scenario.ts";
import type { ScheduleStep } from "./schedule.ts";
import { drawnOutcome, runSchedule, type DrawnOutcome, type RunSetting } from "./schedule-run.ts";

/** Most worker threads (`spillway explore --workers`). */
export const WORKERS_MAX = 64;

export interface ScheduleRunner {
  /** How many schedules it runs at once. */
  readonly width: number;
  run(steps: ScheduleStep[]): Promise<DrawnOutcome>;
  /** Stops every thread; runs still in flight are abandoned (their promises never settle). */
  close(): Promise<void>;
}

/** What a worker sends back for a schedule. */
export type WorkerAnswer = { outcome: DrawnOutcome } | { error: string };

export function inProcessRunner(setting: RunSetting): ScheduleRunner {
  const scenario = exploreScenario();
  return {
    width: 1,
    run: async (steps) => drawnOutcome(await runSchedule(scenario, steps, setting)),
    close: async () => {},
  };
}

interface Job {
  steps: ScheduleStep[];
  resolve: (outcome: DrawnOutcome) => void;
  reject: (error: Error) => void;
}

interface Thread {
  worker: Worker;
  job: Job | null;
}

export function workerPool(workers: number, setting: RunSetting): ScheduleRunner {
  if (!Number.isSafeInteger(workers) || workers < 1 || workers > WORKERS_MAX)
    throw new RangeError(`workers is ${workers}, expected 1 to ${WORKERS_MAX}`);
  const queue: Job[] = [];
  let failure: Error | null = null;
  let closing = false;

  const fail = (error: Error): void => {
    if (closing) return;
    failure ??= error;
    for (const thread of threads) {
      thread.job?.reject(failure);
      thread.job = null;
    }
    for (const job of queue.splice(0)) job.reject(failure);
  };

  const pump = (): void => {
    for (const thread of threads) {
      if (thread.job !== null) continue;
      const job = queue.shift();
      if (job === undefined) return;
      thread.job = job;
      thread.worker.postMessage(job.steps);
    }
  };

  const threads: Thread[] = Array.from({ length: workers }, (_, number) => {
    const thread: Thread = {
      worker: new Worker(new URL("./worker.ts", import.meta.url), { workerData: setting }),
      job: null,
    };
    const name = `explore worker ${number + 1} of ${workers}`;
    thread.worker.on("message", (answer: WorkerAnswer) => {
      const job = thread.job;
      if (job === null) return fail(new Error(`${name} answered without a schedule to run`));
      // fail() rejects the thread's job too, so it is cleared only once answered.
      if ("error" in answer) return fail(new Error(`${name} failed: ${answer.error}`));
      thread.job = null;
      job.resolve(answer.outcome);
      pump();
    });
    thread.worker.on("error", (error) => fail(new Error(`${name} failed: ${error.message}`)));
    thread.worker.on("messageerror", (error) =>
      fail(new Error(`${name} sent an unreadable answer: ${error.message}`)),
    );
    thread.worker.on("exit", (code) => fail(new Error(`${name} exited with code ${code}`)));
    return thread;
  });

  return {
    width: workers,
    run: (steps) =>
      new Promise<DrawnOutcome>((resolve, reject) => {
        if (failure !== null) return reject(failure);
        queue.push({ steps, resolve, reject });
        pump();
      }),
    close: async () => {
      closing = true;
      await Promise.all(threads.map((thread) => thread.worker.terminate()));
    },
  };
}
