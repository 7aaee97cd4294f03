// Runs an experiment on a runtime named on the command line: real processes (the default) or
// the simulator (virtual time, the experiment's `simulator` scale); or on a Runtime object
// (the container runtime, made with its options by harness/cli/runtimes.ts).

import type { Experiment } from "./definition.ts";
import type { Journal } from "./journal.ts";
import type { Runtime } from "../runtime/runtime.ts";
import { runExperiment, type RunOptions } from "./runner.ts";
import { runOnSimulator } from "./sim-run.ts";

export const RUNTIME_NAMES = ["process", "sim"] as const;
export type RuntimeName = (typeof RUNTIME_NAMES)[number];

export async function runOn(
  runtime: RuntimeName | Runtime,
  experiment: Experiment,
  options: Omit<RunOptions, "runtime">,
): Promise<Journal> {
  if (typeof runtime !== "string") return runExperiment(experiment, { ...options, runtime });
  if (runtime === "sim") {
    const { toxiproxyUrl: _unused, ...simOptions } = options;
    return (await runOnSimulator(experiment, simOptions)).journal;
  }
  return runExperiment(experiment, options);
}
