// `spillway list` and `spillway validate <file>`: the shipped experiments and targets, and a
// check of an experiment (against its target, when it runs on one) or of a target file alone.

import { Command } from "commander";
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Experiment } from "../experiment/definition.ts";
import {
  experimentFrom,
  loadExperiment,
  readDefinition,
  shippedExperiments,
} from "../experiment/load.ts";
import { parseTarget, withItsTarget, type LoadedTarget } from "../target/load.ts";
import { UsageError } from "./exit.ts";

export const TARGETS_DIR = fileURLToPath(new URL("../../targets/", import.meta.url));
const DEFINITION_FILE = /\.(ts|json|ya?ml)$/;
/** Top-level keys only a target file has (docs/targets.md, "The target file"). */
const TARGET_KEYS = ["services", "ingress", "egresses"];
const NAME_COLUMN = 18;

/**
 * Whether a definition is a target file rather than an experiment: a target's own keys at the
 * top level, and no `duration`, which every experiment has.
 */
export function isTargetDefinition(definition: unknown): boolean {
  if (typeof definition !== "object" || definition === null || Array.isArray(definition))
    return false;
  const keys = Object.keys(definition);
  return !keys.includes("duration") && TARGET_KEYS.some((key) => keys.includes(key));
}

/** `legacy-2024: violates no-silent-loss; hardened: all hold`, per profile or variant. */
function expectationsOf(experiment: Experiment): string {
  return Object.entries(experiment.expect ?? {})
    .map(([profile, outcomes]) => {
      const violated = Object.entries(outcomes ?? {})
        .filter(([, outcome]) => outcome === "violated")
        .map(([invariant]) => invariant);
      return `${profile}: ${violated.length === 0 ? "all hold" : `violates ${violated.join(", ")}`}`;
    })
    .join("; ");
}

/** `name  description` and, beneath, what it expects. */
function listed(name: string, experiment: Experiment): string {
  return `${name.padEnd(NAME_COLUMN)} ${experiment.description}\n${"".padEnd(NAME_COLUMN)} ${expectationsOf(experiment)}\n`;
}

/**
 * The shipped targets (targets/<name>/target.*), each with the experiments beside it, each
 * file read once and checked against the target it names.
 */
async function shippedTargets(): Promise<
  Array<{ target: LoadedTarget; experiments: Array<{ file: string; experiment: Experiment }> }>
> {
  if (!existsSync(TARGETS_DIR)) return [];
  const shipped = [];
  for (const name of readdirSync(TARGETS_DIR).sort()) {
    const dir = path.join(TARGETS_DIR, name);
    const files = readdirSync(dir).filter((file) => DEFINITION_FILE.test(file));
    const targetFile = files.find((file) => file.replace(DEFINITION_FILE, "") === "target");
    if (targetFile === undefined) continue;
    const file = path.join(dir, targetFile);
    const target = parseTarget(await readDefinition(file, "target"), file);
    const experiments = [];
    for (const other of files.filter((file) => file !== targetFile).sort()) {
      const experimentFile = path.join(dir, other);
      const definition = await readDefinition(experimentFile);
      if (isTargetDefinition(definition)) continue;
      const loaded = experimentFrom(definition, experimentFile);
      const { experiment } = await withItsTarget(loaded, experimentFile, target);
      experiments.push({ file: experimentFile, experiment });
    }
    shipped.push({ target, experiments });
  }
  return shipped;
}

export function listCommand(): Command {
  return new Command("list")
    .description(
      "List the shipped experiments on the reference pipeline, and the shipped targets (docs/targets.md) with the experiments beside each; say what each expects.",
    )
    .action(async () => {
      for (const name of shippedExperiments())
        process.stdout.write(listed(name, await loadExperiment(name)));
      const targets = await shippedTargets();
      if (targets.length === 0) return;
      process.stdout.write("\ntargets (run an experiment by its path):\n");
      for (const { target, experiments } of targets) {
        process.stdout.write(
          `${target.spec.name.padEnd(NAME_COLUMN)} ${target.spec.description}\n`,
        );
        for (const { file, experiment } of experiments) {
          process.stdout.write(
            `  ${path.relative(process.cwd(), file)}: ${experiment.description}\n    ${expectationsOf(experiment)}\n`,
          );
        }
      }
    });
}

function describeTarget(target: LoadedTarget): string {
  const { spec } = target;
  const variants = Object.keys(spec.variants);
  return [
    `${spec.services.length} services`,
    `${spec.links.length} links`,
    `ingress ${target.ingress.spec.kind}`,
    `egresses ${target.egresses.map((egress) => `${egress.name} (${egress.spec.kind})`).join(", ")}`,
    ...(variants.length === 0 ? [] : [`variants ${variants.join(", ")}`]),
  ].join(", ");
}

/** The definition in `reference` when it is a file that exists; undefined for a shipped name. */
async function definitionIn(reference: string): Promise<unknown> {
  if (!DEFINITION_FILE.test(reference) || !existsSync(reference)) return undefined;
  return readDefinition(path.resolve(reference));
}

export function validateCommand(): Command {
  return new Command("validate")
    .description(
      "Check an experiment (and the target it runs on, if any) or a target file against its schema, without running anything. A file whose top level has services, ingress or egresses and no duration is a target file (docs/targets.md), checked alone: its services, links, ports, probes, templates and placeholders, ingress, egresses, routes and declarations. Problems name the path and the value; exit 2.",
    )
    .argument(
      "<file>",
      "a .ts/.json/.yaml experiment or a shipped experiment's name, or a target file",
    )
    .option(
      "--target <file>",
      "check the experiment against this target file instead of its own target: field",
    )
    .action(async (reference: string, flags: { target?: string }) => {
      const definition = await definitionIn(reference);
      if (isTargetDefinition(definition)) {
        if (flags.target !== undefined)
          throw new UsageError(
            `--target ${flags.target}: ${reference} is itself a target file; --target goes with an experiment`,
          );
        const target = parseTarget(definition, path.resolve(reference));
        process.stdout.write(
          `${reference}: valid target ${target.spec.name} (${describeTarget(target)})\n`,
        );
        return;
      }
      // A file already read is not read again; a shipped name is found by loadExperiment.
      const loaded =
        definition === undefined
          ? await loadExperiment(reference, flags.target)
          : experimentFrom(definition, path.resolve(reference), flags.target);
      const { experiment, target } = await withItsTarget(loaded, reference);
      const on =
        target === null
          ? ""
          : ` on target ${target.spec.name} (${path.relative(process.cwd(), target.file)})`;
      process.stdout.write(
        `${reference}: valid (${experiment.method.length} fault steps, ${experiment.duration / 1000} s)${on}\n`,
      );
    });
}
