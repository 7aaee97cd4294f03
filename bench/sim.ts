// `npm run bench -- sim`: the simulator's speed. The nov14-2024 replay at its simulator scale
// (50 s of pipeline time, 25,000 events through the real component code) is run five times to
// warm the JIT (V8 needs about ten runs' worth of calls before the hot paths are fully
// optimised; the first, cold run is printed too) and then five times; the median of those is
// reported, the speed of a simulator that runs one schedule after another. Then `spillway explore`
// draws and runs hardened schedules for a fixed number of runs (nothing to find, so no
// shrinking), on one worker (this thread) and on the default workers (one thread per core), and
// reports schedules per minute for each. Ends with
// `sim.nov14_ms=<n> sim.schedules_per_min=<n> sim.schedules_per_min_workers=<n>`.

import { loadExperiment } from "../harness/experiment/load.ts";
import { runOnSimulator } from "../harness/experiment/sim-run.ts";
import { defaultWorkers, explore } from "../harness/explore/explore.ts";

const NOV14_WARMUP_RUNS = 5;
const NOV14_RUNS = 5;
/**
 * Schedules per explore measurement: enough that the worker threads' start (each loads the
 * harness and warms its own JIT, about 2 s on 2 cores) weighs on the figure as little as in an
 * exploration of thousands of schedules.
 */
const EXPLORE_RUNS = 300;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

export async function benchSim(): Promise<void> {
  const nov14 = await loadExperiment("nov14-2024");
  const warmup: number[] = [];
  for (let run = 0; run < NOV14_WARMUP_RUNS; run++) {
    const started = performance.now();
    await runOnSimulator(nov14, { profile: "legacy-2024", seed: run + 1 });
    warmup.push(performance.now() - started);
  }
  const walls: number[] = [];
  let produced = 0;
  let virtualMs = 0;
  let requests = 0;
  for (let run = 0; run < NOV14_RUNS; run++) {
    const started = performance.now();
    const { journal, simulation } = await runOnSimulator(nov14, {
      profile: "legacy-2024",
      seed: run + 1,
    });
    walls.push(performance.now() - started);
    produced = journal.verdict?.figures.produced ?? 0;
    virtualMs = simulation.elapsedMs();
    requests = simulation.network.requests;
  }
  console.log(
    `nov14-2024 on the simulator (legacy-2024): ${produced} events, ${(virtualMs / 1000).toFixed(1)} s of pipeline time, ${requests} requests; wall ms per run while warming up ${warmup.map((ms) => ms.toFixed(0)).join(", ")}, then ${walls.map((ms) => ms.toFixed(0)).join(", ")}`,
  );

  const one = await exploreSpeed(1);
  const workers = defaultWorkers();
  const many = await exploreSpeed(workers);
  console.log(
    `explore with ${workers} workers: ${(many.perMinute / one.perMinute).toFixed(2)}× one worker's schedules per minute (the same schedules; cores shared with anything else running)`,
  );
  console.log(
    `sim.nov14_ms=${median(walls).toFixed(0)} sim.schedules_per_min=${one.perMinute.toFixed(0)} sim.schedules_per_min_workers=${many.perMinute.toFixed(0)}`,
  );
}

/** Explore's schedules per minute on hardened with this many worker threads. */
async function exploreSpeed(workers: number): Promise<{ perMinute: number }> {
  const started = performance.now();
  const result = await explore({ profile: "hardened", runs: EXPLORE_RUNS, seed: 1, workers });
  const elapsedMs = performance.now() - started;
  console.log(
    `explore on hardened, ${workers} worker${workers === 1 ? "" : "s"}: ${result.runs} schedules in ${(elapsedMs / 1000).toFixed(1)} s (${(elapsedMs / result.runs).toFixed(0)} ms each), found: ${result.found}`,
  );
  return { perMinute: (result.runs / elapsedMs) * 60_000 };
}
