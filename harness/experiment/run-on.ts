// Runs an experiment on a runtime named on the command line: real processes (the default) or
// the simulator (virtual time, the experiment's `simulator` scale).

import type { Experiment } from "./definition.ts";
import type { Journal } from "./journal.ts";
import { runExperiment, type RunOptions } from "./runner.ts";
import { runOnSimulator } from "./sim-run.ts";

export const RUNTIME_NAMES = ["process", "sim"] as const;
export type RuntimeName = (typeof RUNTIME_NAMES)[number];

export async function runOn(
  runtime: RuntimeName,
  experiment: Experiment,
  options: Omit<RunOptions, "runtime">,
): Promise<Journal> {
  if (runtime === "sim") {
    const { toxiproxyUrl: _unused, ...simOptions } = options;
    return (await runOnSimulator(experiment, simOptions)).journal;
  }
  return runExperiment(experiment, options);
}
