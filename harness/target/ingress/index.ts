// A target's ingress as its file describes it (docs/targets.md, "Ingress"), and the sender it
// makes: the schema checks the description once, at the edge; createIngress trusts it.

import { z } from "zod";
import type { Log, Net } from "../../../pipeline/core/seam.ts";
import { HTTP_BODIES, httpIngress, HTTP_PATH_DEFAULT, HTTP_PATH_PATTERN } from "./http.ts";
import type { Ingress, IngressKind } from "./ingress.ts";
import {
  REDIS_STREAM_CHARS_MAX,
  REDIS_STREAM_DEFAULT,
  redisStreamsIngress,
} from "./redis-streams.ts";
import type { SendingOptions } from "./sending.ts";
import { syslogIngress } from "./syslog.ts";
import {
  SYSLOG_APP_NAME_PATTERN,
  SYSLOG_FORMATS,
  SYSLOG_FRAMINGS,
  SYSLOG_HOSTNAME_PATTERN,
} from "./syslog-format.ts";

export type { Ingress, IngressKind } from "./ingress.ts";
export type { SendingOptions } from "./sending.ts";

const httpSchema = z.strictObject({
  kind: z.literal("http"),
  path: z
    .string()
    .regex(HTTP_PATH_PATTERN, "expected an absolute path without query, like /ingest")
    .default(HTTP_PATH_DEFAULT),
  /** `native`: the reference pipeline's events; `token`: `{"message": <token>}` lines. */
  body: z.enum(HTTP_BODIES).default("native"),
});

const syslogSchema = z.strictObject({
  kind: z.literal("syslog"),
  framing: z.enum(SYSLOG_FRAMINGS).default("octet-counting"),
  format: z.enum(SYSLOG_FORMATS).default("rfc5424"),
  hostname: z
    .string()
    .regex(SYSLOG_HOSTNAME_PATTERN, "expected 1-255 printable ASCII characters without spaces")
    .optional(),
  appName: z
    .string()
    .regex(SYSLOG_APP_NAME_PATTERN, "expected 1-32 characters of [A-Za-z0-9_.-]")
    .optional(),
});

const redisStreamsSchema = z.strictObject({
  kind: z.literal("redis-streams"),
  stream: z.string().min(1).max(REDIS_STREAM_CHARS_MAX).default(REDIS_STREAM_DEFAULT),
  /** Exact MAXLEN at each XADD; without it the stream is never trimmed. */
  maxlen: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional(),
});

/** How the workload sends to a target, and so what an acknowledgement means. */
export const ingressSchema = z.discriminatedUnion("kind", [
  httpSchema,
  syslogSchema,
  redisStreamsSchema,
]);

export type IngressSpec = z.output<typeof ingressSchema>;
export type IngressSpecInput = z.input<typeof ingressSchema>;

// Every kind the interface names has a description, and no other.
const kindsCovered: Record<IngressKind, true> = {
  http: true,
  syslog: true,
  "redis-streams": true,
} satisfies Record<IngressSpec["kind"], true>;
void kindsCovered;

/** Where the target's first hop listens (through its link's proxy, when it has one). */
export interface IngressAddress {
  host: string;
  port: number;
}

export interface IngressContext extends Partial<SendingOptions> {
  /** Length of the payload in each event's token (syslog, Redis Streams, HTTP's token body). */
  payloadChars: number;
  /** HTTP only; default a keep-alive client of the ingress's own. */
  net?: Net;
  log?: Log;
}

export function createIngress(
  spec: IngressSpec,
  address: IngressAddress,
  context: IngressContext,
): Ingress {
  const { payloadChars, net, log, ...sending } = context;
  switch (spec.kind) {
    case "http": {
      const host = address.host.includes(":") ? `[${address.host}]` : address.host;
      return httpIngress({
        ...sending,
        url: `http://${host}:${address.port}`,
        path: spec.path,
        body: spec.body,
        payloadChars,
        net,
      });
    }
    case "syslog":
      return syslogIngress({ ...sending, ...address, ...withoutKind(spec), payloadChars, log });
    case "redis-streams":
      return redisStreamsIngress({
        ...sending,
        ...address,
        ...withoutKind(spec),
        payloadChars,
        log,
      });
  }
}

function withoutKind<Spec extends { kind: string }>(spec: Spec): Omit<Spec, "kind"> {
  const { kind: _kind, ...rest } = spec;
  return rest;
}
