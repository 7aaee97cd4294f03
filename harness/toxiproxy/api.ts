// The control plane (after Toxiproxy's api.go): every endpoint, status, message and JSON shape
// of docs/toxiproxy.md. Requests are handled one at a time, so no two changes interleave.
import type { IncomingMessage, ServerResponse } from "node:http";
import { ApiError } from "./errors.ts";
import { parseJson } from "./json-body.ts";
import type { ToxiproxyLimits } from "./limits.ts";
import { asApiError, PopulateError, type ProxyCollection } from "./proxy-collection.ts";
import {
  decodePopulate,
  decodeProxyChange,
  decodeProxyCreate,
  decodeToxicCreate,
} from "./requests.ts";
import { Router, type RouteParams } from "./router.ts";

/** The Toxiproxy release whose API this server speaks. */
export const TOXIPROXY_API_VERSION = "2.12.0";

interface ApiRequest {
  params: RouteParams;
  body: string;
}

interface Reply {
  status: number;
  body?: string;
  headers?: Readonly<Record<string, string>>;
}

type Handler = (request: ApiRequest) => Reply | Promise<Reply>;

const JSON_TYPE = { "Content-Type": "application/json" };
// Go's http.Error, which Toxiproxy answers errors with.
const PLAIN_TYPE = {
  "Content-Type": "text/plain; charset=utf-8",
  "X-Content-Type-Options": "nosniff",
};

export function createApiHandler(
  collection: ProxyCollection,
  limits: ToxiproxyLimits,
): (request: IncomingMessage, response: ServerResponse) => void {
  const router = buildRouter(collection);
  const oneAtATime = createSerializer();
  return (request, response) => {
    void answer(request, router, oneAtATime, limits)
      .catch((error: unknown) => errorReply(asApiError(error)))
      .then((reply) => send(response, reply));
  };
}

function buildRouter(collection: ProxyCollection): Router<Handler> {
  const proxy = (params: RouteParams) => collection.get(params.proxy ?? "");
  return new Router<Handler>()
    .add(["POST"], "/reset", async () => {
      await collection.reset();
      return { status: 204 };
    })
    .add(["GET"], "/proxies", () => json(200, proxiesByName(collection)))
    .add(["POST"], "/proxies", async ({ body }) =>
      json(201, await collection.add(decodeProxyCreate(parseJson(body)))),
    )
    .add(["POST"], "/populate", ({ body }) => populate(collection, body))
    .add(["GET"], "/proxies/{proxy}", ({ params }) => json(200, proxy(params)))
    .add(["POST", "PATCH"], "/proxies/{proxy}", async ({ params, body }) => {
      const target = proxy(params);
      await target.update(decodeProxyChange(parseJson(body), target));
      return json(200, target);
    })
    .add(["DELETE"], "/proxies/{proxy}", ({ params }) => {
      collection.remove(params.proxy ?? "");
      return { status: 204 };
    })
    .add(["GET"], "/proxies/{proxy}/toxics", ({ params }) => json(200, proxy(params).toxics))
    .add(["POST"], "/proxies/{proxy}/toxics", ({ params, body }) => {
      const { toxics } = proxy(params);
      return json(200, toxics.add(decodeToxicCreate(parseJson(body))));
    })
    .add(["GET"], "/proxies/{proxy}/toxics/{toxic}", ({ params }) =>
      json(200, proxy(params).toxics.get(params.toxic ?? "")),
    )
    .add(["POST", "PATCH"], "/proxies/{proxy}/toxics/{toxic}", ({ params, body }) => {
      const { toxics } = proxy(params);
      const name = params.toxic ?? "";
      toxics.get(name);
      return json(200, toxics.update(name, parseJson(body)));
    })
    .add(["DELETE"], "/proxies/{proxy}/toxics/{toxic}", ({ params }) => {
      proxy(params).toxics.remove(params.toxic ?? "");
      return { status: 204 };
    })
    .add(["GET"], "/version", () => ({
      status: 200,
      body: `{"version": "${TOXIPROXY_API_VERSION}"}\n`,
      headers: { "Content-Type": "application/json;charset=utf-8" },
    }));
}

async function answer(
  request: IncomingMessage,
  router: Router<Handler>,
  oneAtATime: <T>(task: () => Promise<T>) => Promise<T>,
  limits: ToxiproxyLimits,
): Promise<Reply> {
  const path = decodedPath(request.url ?? "/");
  const match =
    path === undefined ? { kind: "no-route" as const } : router.match(request.method ?? "", path);
  // As with gorilla/mux, routing comes before the middleware that guards against browsers.
  if (match.kind === "no-route") {
    request.resume();
    return plain(404, "404 page not found\n");
  }
  if (match.kind === "wrong-method") {
    request.resume();
    return { status: 405 };
  }
  if ((request.headers["user-agent"] ?? "").startsWith("Mozilla/")) {
    request.resume();
    return plain(403, "User agent not allowed\n");
  }
  const body = await readBody(request, limits.maxBodyBytes);
  return oneAtATime(async () => match.handler({ params: match.params, body }));
}

async function populate(collection: ProxyCollection, body: string): Promise<Reply> {
  try {
    const proxies = await collection.populate(decodePopulate(parseJson(body)));
    return json(201, { proxies: proxies.length > 0 ? proxies : null });
  } catch (error) {
    const failure = error instanceof PopulateError ? error.failure : asApiError(error);
    const applied = error instanceof PopulateError ? error.applied : [];
    return json(failure.status, {
      error: failure.message,
      status: failure.status,
      proxies: applied.length > 0 ? applied : null,
    });
  }
}

function proxiesByName(collection: ProxyCollection): Record<string, unknown> {
  return Object.fromEntries(collection.list().map((proxy) => [proxy.name, proxy]));
}

function json(status: number, value: unknown): Reply {
  return { status, body: JSON.stringify(value), headers: JSON_TYPE };
}

function plain(status: number, text: string): Reply {
  return { status, body: text, headers: PLAIN_TYPE };
}

function errorReply(error: ApiError): Reply {
  return plain(error.status, `${JSON.stringify(error)}\n`);
}

function send(response: ServerResponse, reply: Reply): void {
  response.writeHead(reply.status, reply.headers);
  response.end(reply.body);
}

function decodedPath(url: string): string | undefined {
  const rawPath = url.split("?", 1)[0] ?? "/";
  try {
    return decodeURIComponent(rawPath);
  } catch {
    return undefined;
  }
}

/** Reads a body up to `maxBytes`; the rest is read and dropped, and the request refused. */
async function readBody(request: IncomingMessage, maxBytes: number): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of request as AsyncIterable<Buffer>) {
    size += part.length;
    if (size <= maxBytes) parts.push(part);
  }
  if (size > maxBytes) throw new ApiError("bad request body: http: request body too large", 400);
  return Buffer.concat(parts).toString("utf8");
}

/** Runs tasks one after another, in the order they were submitted. */
function createSerializer(): <T>(task: () => Promise<T>) => Promise<T> {
  let tail: Promise<unknown> = Promise.resolve();
  return <T>(task: () => Promise<T>): Promise<T> => {
    const run = tail.then(task, task);
    tail = run.catch(() => undefined);
    return run;
  };
}
