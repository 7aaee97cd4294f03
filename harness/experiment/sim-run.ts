// Runs an experiment on the simulator: a fresh Simulation per run, the experiment runner
// driven under its virtual time. Same seed, same experiment ⇒ the same journal and trace.

import { createSimulation, type Simulation } from "../runtime/sim/sim-runtime.ts";
import { parseExperiment, type Experiment } from "./definition.ts";
import type { Journal } from "./journal.ts";
import { runExperiment, type RunOptions } from "./runner.ts";

export interface SimRunOptions extends Omit<RunOptions, "runtime" | "toxiproxyUrl"> {
  /** Record the trace of every request and fault (costs time; for comparing runs). */
  trace?: boolean;
}

/** The experiment as it runs on the simulator: its `simulator` scale applied, if it has one. */
export function simulatorScale(experiment: Experiment): Experiment {
  const scale = experiment.simulator;
  if (scale === undefined) return experiment;
  return parseExperiment(
    {
      ...experiment,
      workload: { ...experiment.workload, ...scale.workload },
      topology: {
        ...experiment.topology,
        limits: { ...experiment.topology.limits, ...scale.topology?.limits },
        memoryCapMb: { ...experiment.topology.memoryCapMb, ...scale.topology?.memoryCapMb },
        maxBufferMemoryMb:
          scale.topology?.maxBufferMemoryMb ?? experiment.topology.maxBufferMemoryMb,
      },
      simulator: undefined,
    },
    `${experiment.name} (simulator scale)`,
  );
}

export async function runOnSimulator(
  experiment: Experiment,
  options: SimRunOptions,
): Promise<{ journal: Journal; simulation: Simulation }> {
  const simulation = createSimulation({ seed: options.seed, trace: options.trace ?? false });
  const { trace: _trace, ...runOptions } = options;
  const journal = await simulation.run(() =>
    runExperiment(simulatorScale(experiment), { ...runOptions, runtime: simulation.runtime }),
  );
  return { journal, simulation };
}
