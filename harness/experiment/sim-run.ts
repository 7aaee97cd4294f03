// Runs an experiment on the simulator: a fresh Simulation per run, the experiment runner
// driven under its virtual time. Same seed, same experiment ⇒ the same journal and trace.

import { createSimulation, type Simulation } from "../runtime/sim/sim-runtime.ts";
import type { Experiment } from "./definition.ts";
import type { Journal } from "./journal.ts";
import { runExperiment, type RunOptions } from "./runner.ts";

export interface SimRunOptions extends Omit<RunOptions, "runtime" | "toxiproxyUrl"> {
  /** Record the trace of every request and fault (costs time; for comparing runs). */
  trace?: boolean;
}

export async function runOnSimulator(
  experiment: Experiment,
  options: SimRunOptions,
): Promise<{ journal: Journal; simulation: Simulation }> {
  const simulation = createSimulation({ seed: options.seed, trace: options.trace ?? false });
  const { trace: _trace, ...runOptions } = options;
  const journal = await simulation.run(() =>
    runExperiment(experiment, { ...runOptions, runtime: simulation.runtime }),
  );
  return { journal, simulation };
}
