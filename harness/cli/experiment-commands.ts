// `spillway list` and `spillway validate <file>`.

import { Command } from "commander";
import { loadExperiment, shippedExperiments } from "../experiment/load.ts";

export function listCommand(): Command {
  return new Command("list")
    .description("List the shipped experiments and what each expects.")
    .action(async () => {
      for (const name of shippedExperiments()) {
        const experiment = await loadExperiment(name);
        const expectations = Object.entries(experiment.expect ?? {})
          .map(([profile, outcomes]) => {
            const violated = Object.entries(outcomes ?? {})
              .filter(([, outcome]) => outcome === "violated")
              .map(([invariant]) => invariant);
            return `${profile}: ${violated.length === 0 ? "all hold" : `violates ${violated.join(", ")}`}`;
          })
          .join("; ");
        process.stdout.write(
          `${name.padEnd(18)} ${experiment.description}\n${"".padEnd(18)} ${expectations}\n`,
        );
      }
    });
}

export function validateCommand(): Command {
  return new Command("validate")
    .description(
      "Check an experiment file (or shipped name) against the schema, without running it.",
    )
    .argument("<experiment>", "a path to a .ts/.json/.yaml experiment, or a shipped name")
    .action(async (reference: string) => {
      const experiment = await loadExperiment(reference);
      process.stdout.write(
        `${reference}: valid (${experiment.method.length} fault steps, ${experiment.duration / 1000} s)\n`,
      );
    });
}
