// Building blocks of the fault parameter schemas. Each says what it expects in its message, so
// that an error reads `<path>: <value>: <expectation>` (docs/architecture.md §9: validate at the
// edge, once, naming the field, the value and the expectation); every number has a bound.

import { z } from "zod";
import { NAME_PATTERN } from "../../pipeline/core/event.ts";
import { MAX_LOAD_MULTIPLIER } from "../workload/tenants.ts";

/** Longest delay or timeout any fault may ask for: an hour. */
export const MAX_FAULT_MS = 3_600_000;

const SERVICE_NAME = /^[a-z][a-z0-9-]{0,62}$/;
const LINK_NAME = /^[a-z][a-z0-9-]{0,62}->[a-z][a-z0-9-]{0,62}$/;

function withUnit(text: string, unit: string | undefined): string {
  return unit === undefined ? text : `${text} (${unit})`;
}

/** An integer in [min, max]; `unit` is named in the message, e.g. "ms". */
export function integer(min: number, max: number, unit?: string): z.ZodNumber {
  const error = withUnit(`expected an integer from ${min} to ${max}`, unit);
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
}

/** A finite number in [min, max]. */
export function decimal(min: number, max: number, unit?: string): z.ZodNumber {
  const error = withUnit(`expected a number from ${min} to ${max}`, unit);
  return z.number({ error }).min(min, { error }).max(max, { error });
}

export function flag(): z.ZodBoolean {
  return z.boolean({ error: "expected true or false" });
}

/** How many times normal traffic a load fault asks for. */
export function multiplier(): z.ZodNumber {
  return decimal(0, MAX_LOAD_MULTIPLIER, "times the normal rate");
}

export function serviceName(): z.ZodString {
  return z
    .string({ error: 'expected a service name, e.g. "buffer"' })
    .regex(SERVICE_NAME, { error: 'expected a service name (a-z, 0-9 and -), e.g. "buffer"' });
}

export function linkName(): z.ZodString {
  const error = 'expected a link "<service>-><peer>", e.g. "forwarder->buffer"';
  return z.string({ error }).regex(LINK_NAME, { error });
}

/** A tenant or dataset name, as events carry them. */
export function eventName(what: "tenant" | "dataset"): z.ZodString {
  const error = `expected a ${what} name: 1-64 characters of A-Z a-z 0-9 _ . -`;
  return z.string({ error }).regex(NAME_PATTERN, { error });
}

export function choice<const Values extends readonly [string, ...string[]]>(
  values: Values,
): z.ZodEnum<{ [Value in Values[number]]: Value }> {
  return z.enum(values, { error: `expected one of ${values.map((v) => `"${v}"`).join(", ")}` });
}

/** A fault's parameters: an object with exactly these fields (a misspelt one is an error). */
export function faultParams<const Shape extends z.core.$ZodLooseShape>(
  shape: Shape,
): z.ZodObject<Shape, z.core.$strict> {
  const fields = Object.keys(shape);
  const expected = fields.length === 0 ? "no parameters" : `fields: ${fields.join(", ")}`;
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `unknown field${issue.keys.length === 1 ? "" : "s"} ${issue.keys.map((key) => `"${key}"`).join(", ")}; expected ${expected}`
        : `expected an object with ${expected}`,
  });
}

/** A fault's parameters as people read them: `service=buffer wipeData=true`, in written order. */
export function formatFaultParams(params: Record<string, unknown>): string {
  return Object.entries(params)
    .map(([name, value]) => `${name}=${typeof value === "string" ? value : JSON.stringify(value)}`)
    .join(" ");
}
