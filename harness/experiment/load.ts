// Finds and validates an experiment: a shipped name (experiments/<name>.ts|.json|.yaml) or a
// path to a .ts, .json, .yaml or .yml file. Every fault step is checked against its kind's
// schema and the topology's services and links. Errors name the path, the value and the
// expectation (ExperimentError).

import { existsSync, readdirSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parse as parseYaml } from "yaml";
import { PROFILE_NAMES } from "../../pipeline/core/flaws.ts";
import { FAULT_NAMES, faultKind } from "../faults/registry.ts";
import { parseTopology } from "../runtime/topology.ts";
import { selectJobTenants } from "../workload/tenants.ts";
import {
  ExperimentError,
  formatPath,
  parseExperiment,
  type Experiment,
  type FaultStep,
} from "./definition.ts";
import { abortProblems } from "./abort.ts";
import { referenceMemoryCapMb } from "./memory-cap.ts";
import { referenceTopology } from "./reference-topology.ts";

export const EXPERIMENTS_DIR = fileURLToPath(new URL("../../experiments/", import.meta.url));
const EXTENSIONS = [".ts", ".json", ".yaml", ".yml"];

/** Names of the shipped experiments. */
export function shippedExperiments(): string[] {
  return readdirSync(EXPERIMENTS_DIR)
    .filter((file) => EXTENSIONS.some((extension) => file.endsWith(extension)))
    .map((file) => file.replace(/\.(ts|json|ya?ml)$/, ""))
    .sort();
}

function resolveFile(reference: string): string {
  if (EXTENSIONS.some((extension) => reference.endsWith(extension))) {
    if (!existsSync(reference)) throw new ExperimentError(reference, [`(file): no such file`]);
    return path.resolve(reference);
  }
  for (const extension of EXTENSIONS) {
    const candidate = path.join(EXPERIMENTS_DIR, reference + extension);
    if (existsSync(candidate)) return candidate;
  }
  throw new ExperimentError(reference, [
    `(name): "${reference}" is neither a shipped experiment nor a .ts/.json/.yaml file; shipped: ${shippedExperiments().join(", ")}`,
  ]);
}

/** The definition in a .ts (its default export), .json or .yaml file, not yet validated. */
export async function readDefinition(
  file: string,
  what: "experiment" | "target" = "experiment",
): Promise<unknown> {
  if (file.endsWith(".ts")) {
    const module = (await import(pathToFileURL(file).href)) as { default?: unknown };
    const define = what === "target" ? "defineTarget" : "defineExperiment";
    if (module.default === undefined)
      throw new ExperimentError(
        file,
        [`(module): expected a default export made with ${define}(...)`],
        what,
      );
    return module.default;
  }
  const text = await readFile(file, "utf8");
  try {
    return file.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ExperimentError(
      file,
      [
        `(file): not valid ${file.endsWith(".json") ? "JSON" : "YAML"}: ${(error as Error).message}`,
      ],
      what,
    );
  }
}

/** Problems of one fault step: its kind, its parameters, the services and links it names. */
export function checkFault(
  fault: FaultStep,
  where: string,
  services: Set<string>,
  links: Set<string>,
): string[] {
  const { kind: name, ...params } = fault;
  if (!FAULT_NAMES.includes(name))
    return [`${where}.kind: ${JSON.stringify(name)}: expected one of ${FAULT_NAMES.join(", ")}`];
  const kind = faultKind(name);
  const parsed = kind.params.safeParse(params, { reportInput: true });
  if (!parsed.success) {
    return parsed.error.issues.map((issue) => {
      const value = "input" in issue ? (JSON.stringify(issue.input) ?? "missing") : "invalid";
      return `${where}.${formatPath(issue.path)}: ${value === undefined ? "missing" : value}: ${issue.message}`;
    });
  }
  const problems: string[] = [];
  const targets = kind.targets(parsed.data);
  for (const service of targets.services ?? []) {
    if (!services.has(service))
      problems.push(
        `${where}.service: ${JSON.stringify(service)}: expected one of ${[...services].join(", ")}`,
      );
  }
  for (const link of targets.links ?? []) {
    if (!links.has(link))
      problems.push(
        `${where}.link: ${JSON.stringify(link)}: expected one of ${[...links].join(", ")}`,
      );
  }
  return problems;
}

/** A fault step of an experiment with its path there, for the problems found in it. */
export interface PlacedFault {
  fault: FaultStep;
  where: string;
}

/** Every fault step of an experiment: its method's, then its rollbacks. */
export function experimentFaults(experiment: Experiment): PlacedFault[] {
  return [
    ...experiment.method.map((step, index) => ({
      fault: step.fault,
      where: `method[${index}].fault`,
    })),
    ...experiment.rollbacks.map((fault, index) => ({ fault, where: `rollbacks[${index}]` })),
  ];
}

/**
 * Problems of an experiment's faults (experimentFaults) and memory caps against the services
 * and links it will run on (the reference topology's, or a target's), and of a fault timed
 * after the end.
 */
export function namesProblems(
  experiment: Experiment,
  faults: readonly PlacedFault[],
  services: Set<string>,
  links: Set<string>,
): string[] {
  const problems = [
    ...faults.flatMap(({ fault, where }) => checkFault(fault, where, services, links)),
    ...Object.keys(experiment.topology.memoryCapMb ?? {})
      .filter((service) => !services.has(service))
      .map(
        (service) =>
          `topology.memoryCapMb.${service}: expected a service: ${[...services].join(", ")}`,
      ),
  ];
  const late = experiment.method.findIndex((step) => step.at >= experiment.duration);
  if (late >= 0)
    problems.push(
      `method[${late}].at: ${experiment.method[late]!.at}: expected an offset before the end of the run (duration ${experiment.duration} ms)`,
    );
  return problems;
}

/** Checks every fault step and memory cap against the topology the experiment will run. */
export function checkExperiment(experiment: Experiment, where: string): Experiment {
  const jobs = selectJobTenants(experiment.workload).flatMap((tenant) =>
    experiment.workload.datasets.map((dataset) => ({ tenant, dataset })),
  );
  const topology = parseTopology(
    referenceTopology({
      profile: experiment.profile,
      sinks: experiment.topology.sinks,
      jobs,
      datasets: experiment.workload.datasets,
    }),
  );
  const services = new Set(topology.services.map((service) => service.name));
  const links = new Set(topology.links.map((link) => link.name));
  const problems = [
    ...namesProblems(experiment, experimentFaults(experiment), services, links),
    ...abortProblems(experiment.abort, services, {
      silentLoss: null,
      buffer: null,
      memoryCap: (service) =>
        referenceMemoryCapMb(experiment, service) !== undefined ||
        experiment.simulator?.topology?.memoryCapMb?.[service] !== undefined,
    }),
  ];
  if (problems.length > 0) throw new ExperimentError(where, problems);
  return experiment;
}

/**
 * Loads an experiment. One that names a target (`target:`) gets the target's path resolved
 * against its own file, and is checked against the target when that is loaded
 * (harness/target/load.ts); the others against the reference topology, here. `targetOverride`
 * (`--target`, relative to the working directory) replaces its own target, or gives it one.
 */
export async function loadExperiment(
  reference: string,
  targetOverride?: string,
): Promise<Experiment> {
  const file = resolveFile(reference);
  return experimentFrom(await readDefinition(file), file, targetOverride);
}

/** The experiment a definition already read from `file` holds, as loadExperiment gives it. */
export function experimentFrom(
  definition: unknown,
  file: string,
  targetOverride?: string,
): Experiment {
  const where = path.relative(process.cwd(), file) || file;
  const experiment = parseExperiment(definition, where);
  if (targetOverride !== undefined) return { ...experiment, target: path.resolve(targetOverride) };
  if (experiment.target !== undefined)
    return { ...experiment, target: path.resolve(path.dirname(file), experiment.target) };
  const profiles: readonly string[] = PROFILE_NAMES;
  const unknown = Object.keys(experiment.expect ?? {}).filter((key) => !profiles.includes(key));
  if (unknown.length > 0)
    throw new ExperimentError(
      where,
      unknown.map((key) => `expect.${key}: expected a profile: ${PROFILE_NAMES.join(", ")}`),
    );
  return checkExperiment(experiment, where);
}
