// Decoding of JSON request bodies the way Go's encoding/json decodes into a struct: field names
// match case-insensitively, unknown fields are ignored, null leaves a field unset, and a value
// of the wrong JSON type is an error naming the field and the expected type.
import { badRequestBody } from "./errors.ts";

export type FieldKind = "string" | "boolean" | "number" | "integer" | "object";
export type FieldSpec = Readonly<Record<string, FieldKind>>;

type FieldValue<K extends FieldKind> = K extends "string"
  ? string
  : K extends "boolean"
    ? boolean
    : K extends "object"
      ? Readonly<Record<string, unknown>>
      : number;

export type Decoded<S extends FieldSpec> = { -readonly [F in keyof S]?: FieldValue<S[F]> };

/** Parses a request body; an empty one is Go's `EOF`. */
export function parseJson(body: string): unknown {
  if (body.trim() === "") throw badRequestBody("EOF");
  try {
    return JSON.parse(body) as unknown;
  } catch (error) {
    throw badRequestBody((error as Error).message);
  }
}

/** The JSON type of a decoded value, named as Go's decoder names it in its errors. */
export function jsonKind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "boolean") return "bool";
  return typeof value;
}

export function isJsonObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Picks the fields of `spec` out of a JSON object. `target` names the Go type in errors (e.g.
 * `toxiproxy.Proxy`); a JSON null decodes to no fields, as in Go.
 */
export function decodeFields<S extends FieldSpec>(
  value: unknown,
  spec: S,
  target: string,
): Decoded<S> {
  const decoded: Record<string, unknown> = {};
  if (value === null) return decoded as Decoded<S>;
  if (!isJsonObject(value)) {
    throw badRequestBody(
      `json: cannot unmarshal ${jsonKind(value)} into Go value of type ${target}`,
    );
  }
  const byFoldedName = new Map(Object.keys(spec).map((name) => [name.toLowerCase(), name]));
  for (const [key, fieldValue] of Object.entries(value)) {
    const field = byFoldedName.get(key.toLowerCase());
    if (field === undefined || fieldValue === null) continue;
    const kind = spec[field] as FieldKind;
    if (!hasKind(fieldValue, kind)) {
      throw badRequestBody(
        `json: cannot unmarshal ${describe(fieldValue)} into Go struct field ${target}.${field} of type ${goType(kind)}`,
      );
    }
    decoded[field] = fieldValue;
  }
  return decoded as Decoded<S>;
}

function hasKind(value: unknown, kind: FieldKind): boolean {
  switch (kind) {
    case "string":
      return typeof value === "string";
    case "boolean":
      return typeof value === "boolean";
    case "number":
      return typeof value === "number";
    case "integer":
      return Number.isSafeInteger(value);
    case "object":
      return isJsonObject(value);
  }
}

function describe(value: unknown): string {
  return typeof value === "number" ? `number ${value}` : jsonKind(value);
}

function goType(kind: FieldKind): string {
  const names: Record<FieldKind, string> = {
    string: "string",
    boolean: "bool",
    number: "float32",
    integer: "int64",
    object: "object",
  };
  return names[kind];
}
