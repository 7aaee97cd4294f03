// Raw HTTP/1.1 over node:net, for fuzzing servers the way a broken or hostile client reaches
// them: request lines, headers and bodies that no HTTP client library would send, delivered
// whole, byte by byte in pieces, or cut off. Used against the pipeline's components and the
// fault proxy's control plane.

import fc from "fast-check";
import { once } from "node:events";
import { connect } from "node:net";
import { batch } from "./events.ts";

/** How the request bytes reach the server. */
export type Delivery =
  | { kind: "whole" }
  | { kind: "slow"; pieces: number }
  /** The first `share` of the bytes, then a FIN (`end`) or a reset (`destroy`). */
  | { kind: "truncated"; share: number; close: "end" | "destroy" };

export interface RawRequest {
  head: string;
  body: Buffer;
  delivery: Delivery;
}

/** What came back on the connection until the server closed it. */
export interface Exchange {
  /** Status codes of every response, in order (100 Continue included). */
  statuses: number[];
  text: string;
}

/** The request a healthy server must answer 200 after any bad one; it closes the connection. */
export function goodRequest(path: string): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`;
}

/** Targets the issue reported (`new URL` threw on them and the process died), among others. */
export const HOSTILE_TARGETS = [
  "//[/",
  "http://%zz/",
  "http://[::1/",
  "http://127.0.0.1/healthz",
  "//elsewhere/healthz",
  "*",
  "/%zz",
  "/%",
  "/%E0%A4%A",
  "/healthz?cursor=%zz&max=%",
  "/drops?cursor=-1",
  "/drops?max=99999999999999999999",
  "/../../etc/passwd",
  "/\u00e9",
  "",
];

// Mostly a well-formed envelope, so that most requests reach the handler with bad content;
// sometimes a broken one, which Node's parser refuses with 400 itself.
const method = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom("GET", "POST", "PATCH", "DELETE", "PUT", "HEAD") },
  { weight: 1, arbitrary: fc.constantFrom("OPTIONS", "CONNECT", "BREW", "get", "G ET", "") },
);
const version = fc.oneof(
  { weight: 10, arbitrary: fc.constant("HTTP/1.1") },
  { weight: 2, arbitrary: fc.constant("HTTP/1.0") },
  { weight: 1, arbitrary: fc.constantFrom("HTTP/2.0", "HTTP/1.1x", "") },
);
const host = fc.oneof(
  { weight: 8, arbitrary: fc.constant("Host: 127.0.0.1") },
  { weight: 1, arbitrary: fc.constantFrom("", "Host: a\r\nHost: b") },
);

function target(paths: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...paths) },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom(...paths), fc.constantFrom("%zz", "/%", "/%C0%AF", "?max=%zz", "//"))
        .map(([path, suffix]) => path + suffix),
    },
    { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_TARGETS) },
    { weight: 1, arbitrary: fc.string({ maxLength: 24 }) },
  );
}

/** Mostly one of the `known` texts, sometimes any text up to `maxLength`. */
const mostly = (known: readonly string[], maxLength: number): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...known) },
    { weight: 1, arbitrary: fc.string({ maxLength }) },
  );

const headerName = mostly(
  [
    "Content-Type",
    "Expect",
    "Connection",
    "Upgrade",
    "Transfer-Encoding",
    "Content-Length",
    "Host",
    "User-Agent",
  ],
  10,
);
const headerValue = mostly(
  [
    "application/json",
    "application/x-ndjson",
    "100-continue",
    "close",
    "keep-alive",
    "Upgrade",
    "websocket",
    "chunked",
    "gzip, chunked",
    "-1",
    "99999999999999999999",
    "",
  ],
  24,
);

/** How the body is framed: mostly right, sometimes contradictory or lying about its size. */
type Framing = "length" | "chunked" | "none" | "short" | "long" | "both" | "bad-chunks";
const framing = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<Framing>("length", "chunked") },
  { weight: 1, arbitrary: fc.constantFrom<Framing>("none", "short", "long", "both", "bad-chunks") },
);

const eventLine = (seq: number) =>
  `{"tenant":"t1","dataset":"http","producer":"p0","seq":${seq},"payload":"x"}`;
const body = fc.oneof(
  fc.constant(Buffer.alloc(0)),
  fc.string({ maxLength: 80 }).map((text) => Buffer.from(text)),
  fc.jsonValue({ maxDepth: 3 }).map((value) => Buffer.from(JSON.stringify(value) ?? "")),
  fc.nat(5).map((count) => Buffer.from(batch("t1", "http", 0, count))),
  fc.integer().map((seq) => Buffer.from(`${eventLine(seq)}\n{"tenant":`)),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
  fc.constant(Buffer.alloc(6_000, "x")),
);

function framed(kind: Framing, payload: Buffer): { headers: string[]; body: Buffer } {
  const chunked = Buffer.concat([
    Buffer.from(`${payload.length.toString(16)}\r\n`),
    payload,
    Buffer.from(payload.length > 0 ? "\r\n0\r\n\r\n" : "\r\n"),
  ]);
  switch (kind) {
    case "length":
      return { headers: [`Content-Length: ${payload.length}`], body: payload };
    case "chunked":
      return { headers: ["Transfer-Encoding: chunked"], body: chunked };
    case "none":
      return { headers: [], body: payload };
    case "short":
      return { headers: [`Content-Length: ${Math.max(0, payload.length - 3)}`], body: payload };
    case "long":
      return { headers: [`Content-Length: ${payload.length + 7}`], body: payload };
    case "both":
      return {
        headers: [`Content-Length: ${payload.length}`, "Transfer-Encoding: chunked"],
        body: chunked,
      };
    case "bad-chunks":
      return { headers: ["Transfer-Encoding: chunked"], body: Buffer.concat([payload, chunked]) };
  }
}

const delivery = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Delivery>({ kind: "whole" }) },
  {
    weight: 2,
    arbitrary: fc.integer({ min: 2, max: 8 }).map((pieces): Delivery => ({ kind: "slow", pieces })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        share: fc.double({ min: 0, max: 1, noNaN: true }),
        close: fc.constantFrom("end", "destroy"),
      })
      .map(({ share, close }): Delivery => ({ kind: "truncated", share, close })),
  },
);

/** Raw requests aimed at `paths` (the routes of the server under test). */
export function rawRequest(paths: readonly string[]): fc.Arbitrary<RawRequest> {
  return fc
    .record({
      method,
      target: target(paths),
      version,
      host,
      headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 2 }),
      framing,
      payload: body,
      delivery,
    })
    .map((parts) => {
      const { headers, body } = framed(parts.framing, parts.payload);
      const lines = [
        `${parts.method} ${parts.target} ${parts.version}`.trimEnd(),
        ...(parts.host === "" ? [] : [parts.host]),
        ...parts.headers.map(([name, value]) => `${name}: ${value}`),
        ...headers,
      ];
      return printable({
        head: `${lines.join("\r\n")}\r\n\r\n`,
        body,
        delivery: parts.delivery,
      });
    });
}

/** A request written exactly as given, in one piece. */
export function literalRequest(head: string, body = ""): RawRequest {
  return printable({ head, body: Buffer.from(body), delivery: { kind: "whole" } });
}

/** How a request reads in a failure message. */
export function describeRequest(request: RawRequest): string {
  const shown = request.body.length > 120 ? `<${request.body.length} bytes>` : `${request.body}`;
  return `${JSON.stringify(request.head + shown)} (${JSON.stringify(request.delivery)})`;
}

/** fast-check prints a counterexample with describeRequest, not byte by byte. */
function printable(request: RawRequest): RawRequest {
  return Object.assign(request, { [fc.toStringMethod]: () => describeRequest(request) });
}

const STATUS_LINE = /(?:^|\n)HTTP\/1\.[01] (\d{3}) /g;
const PIECE_PAUSE_MS = 2;

/**
 * Sends `request`, followed on the same connection by `goodRequest(healthPath)`, and reads until
 * the server closes the connection (the good request asks it to; a server that is still parsing
 * a body that never comes answers 408 when its request timeout passes). Fails when the server
 * neither answers nor closes within `deadlineMs`.
 */
export async function exchange(
  port: number,
  request: RawRequest,
  healthPath: string,
  deadlineMs = 10_000,
): Promise<Exchange> {
  const socket = connect({ port, host: "127.0.0.1", noDelay: true });
  const parts: Buffer[] = [];
  socket.on("data", (data: Buffer) => parts.push(data));
  socket.on("error", () => {});
  // Not events.once: it rejects on the socket's error (a reset), which is an answer here.
  const closed = new Promise<"closed">((resolve) => socket.once("close", () => resolve("closed")));
  let timer: NodeJS.Timeout | undefined;
  try {
    await once(socket, "connect");
    const bytes = Buffer.concat([Buffer.from(request.head), request.body]);
    const { delivery } = request;
    if (delivery.kind === "truncated") {
      socket.write(bytes.subarray(0, Math.floor(bytes.length * delivery.share)));
      if (delivery.close === "destroy") socket.destroy();
      else socket.end();
    } else {
      const whole = Buffer.concat([bytes, Buffer.from(goodRequest(healthPath))]);
      const pieces = delivery.kind === "slow" ? delivery.pieces : 1;
      const size = Math.ceil(whole.length / pieces);
      for (let offset = 0; offset < whole.length && !socket.destroyed; offset += size) {
        socket.write(whole.subarray(offset, offset + size));
        if (pieces > 1) await new Promise((resolve) => setTimeout(resolve, PIECE_PAUSE_MS));
      }
    }
    const deadline = new Promise<"deadline">((resolve) => {
      timer = setTimeout(() => resolve("deadline"), deadlineMs);
    });
    if ((await Promise.race([closed, deadline])) === "deadline") {
      throw new Error(
        `the server neither answered nor closed the connection within ${deadlineMs} ms`,
      );
    }
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
  const text = Buffer.concat(parts).toString("latin1");
  const statuses = [...text.matchAll(STATUS_LINE)].map((match) => Number(match[1]));
  return { statuses, text };
}

/** The status of `goodRequest(path)` on a fresh connection. */
export async function statusOf(port: number, path: string): Promise<number | undefined> {
  const { statuses } = await exchange(port, literalRequest(""), path);
  return statuses[0];
}
