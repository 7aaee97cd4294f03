// Every fault kind by name (docs/architecture.md §4), one table, and the schema of one fault step
// as an experiment writes it:
// `{ kind: "network.latency", link: "forwarder->buffer", latency: 200 }`,
// its parameters checked by that kind's own schema.

import { z } from "zod";
import { CONFIG_FAULTS } from "./config.ts";
import type { ActiveFault, FaultContext, FaultKind } from "./fault.ts";
import { LOAD_FAULTS } from "./load.ts";
import { NETWORK_FAULTS } from "./network.ts";
import { PROCESS_FAULTS } from "./process.ts";
import { SINK_FAULTS } from "./sink.ts";

/** Every kind, by family in the order of docs/architecture.md §4. */
export const FAULTS = [
  ...NETWORK_FAULTS,
  ...PROCESS_FAULTS,
  ...CONFIG_FAULTS,
  ...LOAD_FAULTS,
  ...SINK_FAULTS,
] as const;

type RegisteredKind = (typeof FAULTS)[number];
export type FaultName = RegisteredKind["name"];

/** The names, in FAULTS order (typed as strings, so that any text can be looked up). */
export const FAULT_NAMES: readonly string[] = FAULTS.map((kind) => kind.name);

const byName = new Map<string, FaultKind>(FAULTS.map((kind) => [kind.name, kind]));
if (byName.size !== FAULTS.length) throw new Error("two fault kinds share a name");

export function isFaultName(name: string): name is FaultName {
  return byName.has(name);
}

/** The kind named `name`; throws naming every known kind when there is none. */
export function faultKind(name: string): FaultKind {
  const kind = byName.get(name);
  if (kind === undefined) {
    throw new Error(`unknown fault kind "${name}"; expected one of: ${FAULT_NAMES.join(", ")}`);
  }
  return kind;
}

/** A kind without parameters has zod's `Record<string, never>`, which would forbid `kind`. */
type Fields<Params> = string extends keyof Params ? Record<never, never> : Params;
type StepOf<Kind> = Kind extends { name: infer Name; params: infer Schema extends z.ZodType }
  ? { kind: Name } & Fields<z.output<Schema>>
  : never;
type StepInputOf<Kind> = Kind extends { name: infer Name; params: infer Schema extends z.ZodType }
  ? { kind: Name } & Fields<z.input<Schema>>
  : never;

/** One fault step after validation, defaults filled in: a union discriminated by `kind`. */
export type FaultStep = StepOf<RegisteredKind>;
/** One fault step as written (defaults optional), e.g. in defineExperiment. */
export type FaultStepInput = StepInputOf<RegisteredKind>;

const KIND_EXPECTED = `expected a fault kind: one of ${FAULT_NAMES.join(", ")}`;

function kindOf(input: unknown): unknown {
  return typeof input === "object" && input !== null ? (input as { kind?: unknown }).kind : input;
}

/**
 * A fault step: `kind` picks the kind, whose schema checks the other fields (strictly: a
 * misspelt parameter is an error). Embed it in a larger schema, or use parseFaultStep.
 */
export const faultStepSchema = z.discriminatedUnion(
  "kind",
  FAULTS.map((kind) =>
    (kind.params as unknown as z.ZodObject).extend({ kind: z.literal(kind.name) }),
  ) as unknown as [z.ZodObject, ...z.ZodObject[]],
  {
    error: (issue) =>
      issue.code === "invalid_union" && kindOf(issue.input) !== undefined
        ? `unknown fault kind ${JSON.stringify(kindOf(issue.input))}; ${KIND_EXPECTED}`
        : issue.code === "invalid_union"
          ? KIND_EXPECTED
          : `expected a fault step: an object with kind and that kind's parameters`,
  },
) as unknown as z.ZodType<FaultStep, FaultStepInput>;

export class FaultStepError extends Error {
  readonly problems: readonly string[];
  constructor(where: string, problems: readonly string[]) {
    super(
      `${where} is not a valid fault step:\n${problems.map((line) => `  - ${line}`).join("\n")}`,
    );
    this.name = "FaultStepError";
    this.problems = problems;
  }
}

function describeValue(value: unknown): string {
  if (value === undefined) return "missing";
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 60)}…` : text;
}

function pathText(where: string, path: readonly PropertyKey[]): string {
  return path.reduce<string>(
    (text, key) => (typeof key === "number" ? `${text}[${key}]` : `${text}.${String(key)}`),
    where,
  );
}

/**
 * Validates one fault step; throws a FaultStepError whose every line reads
 * `<where>.<field>: <value>: <expectation>`.
 */
export function parseFaultStep(input: unknown, where = "fault"): FaultStep {
  const parsed = faultStepSchema.safeParse(input, { reportInput: true });
  if (parsed.success) return parsed.data;
  throw new FaultStepError(
    where,
    parsed.error.issues.flatMap((issue) => {
      // A misspelt field is reported at that field; an unknown or missing kind at `kind`.
      if (issue.code === "unrecognized_keys") {
        const step = issue.input as Record<string, unknown>;
        return issue.keys.map(
          (key) =>
            `${pathText(where, [...issue.path, key])}: ${describeValue(step[key])}: ${issue.message}`,
        );
      }
      const value = issue.code === "invalid_union" ? kindOf(issue.input) : issue.input;
      return [`${pathText(where, issue.path)}: ${describeValue(value)}: ${issue.message}`];
    }),
  );
}

/**
 * What the step's parameters name in the topology, by its kind's own targets. The step may be
 * as an experiment holds it (validated, defaults not filled in): its kind's schema parses it.
 */
export function faultTargets(step: { kind: string }): { services?: string[]; links?: string[] } {
  const { kind: name, ...params } = step;
  const kind = faultKind(name);
  return kind.targets(kind.params.parse(params));
}

/**
 * What a step acts on, as the dry-run plan and the report's fault windows both name it: the
 * services and links its kind targets, and the tenant it names; null when it names none.
 */
export function faultTarget(step: { kind: string }): string | null {
  const { services = [], links = [] } = faultTargets(step);
  const named = [...services, ...links];
  const tenant = (step as { tenant?: unknown }).tenant;
  if (typeof tenant === "string") named.push(`tenant ${tenant}`);
  return named.length > 0 ? named.join(", ") : null;
}

/** Injects a validated step's fault. */
export function injectFault(context: FaultContext, step: FaultStep): Promise<ActiveFault> {
  const { kind, ...params } = step;
  return faultKind(kind).inject(context, params);
}
