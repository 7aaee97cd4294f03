// Request bodies of the control plane, validated once at the edge into the shapes the proxy
// collection works with. Messages and the order of checks follow Toxiproxy (docs/toxiproxy.md).
import { badRequestBody, invalidStream, invalidToxicType, missingField } from "./errors.ts";
import { decodeFields, jsonKind } from "./json-body.ts";
import { findToxicType, type Direction, type ToxicType } from "./toxic.ts";
import "./toxics/index.ts";

/** Where a proxy listens when the request names no address: loopback, a free port. */
export const DEFAULT_LISTEN = "127.0.0.1:0";

export interface ProxySpec {
  name: string;
  listen: string;
  upstream: string;
  enabled: boolean;
}

export type ProxyChange = Omit<ProxySpec, "name">;

const PROXY_FIELDS = {
  name: "string",
  listen: "string",
  upstream: "string",
  enabled: "boolean",
} as const;

const GO_PROXY = "toxiproxy.Proxy";

/** POST /proxies: name is checked first, then upstream; enabled defaults to true. */
export function decodeProxyCreate(body: unknown): ProxySpec {
  const fields = decodeFields(body, PROXY_FIELDS, GO_PROXY);
  if (!fields.name) throw missingField("name");
  if (!fields.upstream) throw missingField("upstream");
  return {
    name: fields.name,
    listen: fields.listen || DEFAULT_LISTEN,
    upstream: fields.upstream,
    enabled: fields.enabled ?? true,
  };
}

/** POST/PATCH /proxies/{proxy}: every field defaults to the proxy's current value. */
export function decodeProxyChange(body: unknown, current: ProxyChange): ProxyChange {
  const fields = decodeFields(body, PROXY_FIELDS, GO_PROXY);
  return {
    listen: fields.listen === undefined ? current.listen : fields.listen || DEFAULT_LISTEN,
    upstream: fields.upstream ?? current.upstream,
    enabled: fields.enabled ?? current.enabled,
  };
}

/** POST /populate: the whole array is decoded and validated before anything is created. */
export function decodePopulate(body: unknown): ProxySpec[] {
  if (body === null) return [];
  if (!Array.isArray(body)) {
    throw badRequestBody(
      `json: cannot unmarshal ${jsonKind(body)} into Go value of type []${GO_PROXY}`,
    );
  }
  const entries = body.map((entry: unknown) => decodeFields(entry, PROXY_FIELDS, GO_PROXY));
  return entries.map((fields, index) => {
    if (!fields.name) throw missingField(`name at proxy ${index + 1}`);
    if (!fields.upstream) throw missingField(`upstream at proxy ${index + 1}`);
    return {
      name: fields.name,
      listen: fields.listen || DEFAULT_LISTEN,
      upstream: fields.upstream,
      enabled: fields.enabled ?? true,
    };
  });
}

export interface ToxicCreate {
  name: string;
  type: ToxicType;
  stream: string;
  direction: Direction;
  toxicity: number;
  /** Still raw: decoded against the type's attributes once the name is known to be free. */
  attributes: Readonly<Record<string, unknown>> | undefined;
}

const TOXIC_FIELDS = {
  name: "string",
  type: "string",
  stream: "string",
  toxicity: "number",
  attributes: "object",
} as const;

/** POST /proxies/{proxy}/toxics, up to the checks that need the proxy's toxics. */
export function decodeToxicCreate(body: unknown): ToxicCreate {
  const fields = decodeFields(body, TOXIC_FIELDS, "toxics.ToxicWrapper");
  const stream = fields.stream ?? "downstream";
  const direction = parseDirection(stream);
  const typeName = fields.type ?? "";
  const type = findToxicType(typeName);
  if (type === undefined) throw invalidToxicType();
  return {
    name: fields.name || `${typeName}_${stream}`,
    type,
    stream,
    direction,
    toxicity: fields.toxicity ?? 1,
    attributes: fields.attributes,
  };
}

function parseDirection(stream: string): Direction {
  const folded = stream.toLowerCase();
  if (folded === "upstream" || folded === "downstream") return folded;
  throw invalidStream();
}

/**
 * A toxic's attributes: `raw` merged over `base`. Each is a non-negative integer; values the
 * toxic cannot run with are refused, where Toxiproxy would crash or misbehave.
 */
export function decodeAttributes(
  type: ToxicType,
  raw: Readonly<Record<string, unknown>> | undefined,
  base: Readonly<Record<string, number>>,
): Readonly<Record<string, number>> {
  const spec = Object.fromEntries(type.attributes.map((name) => [name, "integer" as const]));
  const fields = decodeFields(raw ?? null, spec, `toxics.${type.type}`);
  const attributes: Record<string, number> = {};
  for (const name of type.attributes) {
    const value = fields[name] ?? base[name] ?? 0;
    if (value < 0) throw badRequestBody(`${name} must not be negative, got ${value}`);
    attributes[name] = value;
  }
  const problem = type.validate?.(attributes);
  if (problem !== undefined) throw badRequestBody(problem);
  return attributes;
}
