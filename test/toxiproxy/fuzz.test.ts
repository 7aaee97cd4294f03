// Bad input never crashes the server: generated requests (near-miss proxy and toxic documents,
// valid JSON of every shape, garbage text) sent to every endpoint. Every answer must be one the
// contract allows, and the server must still answer afterwards. fast-check prints the seed and
// the shrunk request sequence of any failure.
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startToxiproxy, type RunningToxiproxy } from "../../harness/toxiproxy/server.ts";
import { toxicTypeNames } from "../../harness/toxiproxy/toxic.ts";
import { api, closedPort } from "./helpers.ts";

const anyJson = fc.jsonValue({ maxDepth: 3 });
/** Mostly the intended values, sometimes any JSON at all. */
const loose = <T>(arbitrary: fc.Arbitrary<T>) =>
  fc.oneof({ weight: 4, arbitrary }, { weight: 1, arbitrary: anyJson });

// Only loopback or unparseable addresses: a generated host name would go out to DNS.
const listenAddress = fc.constantFrom(
  "127.0.0.1:0",
  "localhost:0",
  "[::1]:0",
  "",
  "127.0.0.1",
  "127.0.0.1:99999",
  "127.0.0.1:port",
  "::1:0",
  "[::1",
);
const upstreamAddress = fc.oneof(fc.constantFrom("127.0.0.1:1", "localhost:2", ""), fc.string());
const name = fc.oneof(
  fc.constantFrom("p", "q", "t", "latency_downstream", ""),
  fc.string({ maxLength: 8 }),
);
const attributeName = fc.oneof(
  fc.constantFrom(
    "latency",
    "jitter",
    "rate",
    "delay",
    "timeout",
    "average_size",
    "size_variation",
    "bytes",
  ),
  fc.string({ maxLength: 6 }),
);

const proxyDocument = fc.record(
  {
    name: loose(name),
    listen: loose(listenAddress),
    upstream: loose(upstreamAddress),
    enabled: loose(fc.boolean()),
  },
  { requiredKeys: [] },
);
const toxicDocument = fc.record(
  {
    name: loose(name),
    type: loose(fc.constantFrom(...toxicTypeNames(), "down", "LATENCY", "")),
    stream: loose(fc.constantFrom("upstream", "DownStream", "up", "")),
    toxicity: loose(fc.oneof(fc.double(), fc.integer())),
    attributes: loose(
      fc.dictionary(
        attributeName,
        loose(fc.oneof(fc.integer({ min: -5, max: 100_000 }), fc.double())),
        { maxKeys: 4 },
      ),
    ),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  { weight: 1, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 1, arbitrary: anyJson },
  { weight: 3, arbitrary: proxyDocument },
  { weight: 3, arbitrary: toxicDocument },
  { weight: 2, arbitrary: fc.array(proxyDocument, { maxLength: 3 }) },
);

type Route = readonly [method: string, path: string];
const routesOf = (methods: readonly string[], path: string): Route[] =>
  methods.map((method) => [method, path] as const);
const knownRoutes = fc.constantFrom<Route>(
  ...routesOf(["GET", "POST"], "/proxies"),
  ...routesOf(["POST"], "/populate"),
  ...routesOf(["POST"], "/reset"),
  ...routesOf(["GET"], "/version"),
  ...routesOf(["GET", "POST", "PATCH", "DELETE"], "/proxies/p"),
  ...routesOf(["GET", "POST"], "/proxies/p/toxics"),
  ...routesOf(["GET", "POST", "PATCH", "DELETE"], "/proxies/p/toxics/t"),
);
const strayRoutes = fc.tuple(
  fc.constantFrom("GET", "POST", "PATCH", "DELETE", "PUT"),
  fc.oneof(
    fc.constantFrom(
      "/proxies/nope",
      "/proxies/nope/toxics/t",
      "/proxies/p/toxics/nope",
      "/proxies/%zz",
      "/",
    ),
    name.map((segment) => `/proxies/${encodeURIComponent(segment)}/toxics`),
  ),
);
const request = fc.record({
  route: fc.oneof({ weight: 4, arbitrary: knownRoutes }, { weight: 1, arbitrary: strayRoutes }),
  body,
});

const ALLOWED_STATUSES = new Set([200, 201, 204, 400, 404, 405, 409]);

describe("generated requests against every endpoint", () => {
  let server: RunningToxiproxy | undefined;
  let url = "";
  let upstream = "";

  beforeAll(async () => {
    server = await startToxiproxy({ host: "127.0.0.1", port: 0, seed: 7 });
    url = server.url;
    upstream = `127.0.0.1:${await closedPort()}`;
  });

  afterAll(async () => {
    await server?.close();
  });

  /** Every run starts from one proxy `p` with one toxic `t`, so deeper paths are reached. */
  async function resetState(): Promise<void> {
    const proxies = (await api(url, "GET", "/proxies")).json() as Record<string, unknown>;
    for (const proxyName of Object.keys(proxies)) {
      await api(url, "DELETE", `/proxies/${encodeURIComponent(proxyName)}`);
    }
    await api(url, "POST", "/proxies", { name: "p", upstream });
    await api(url, "POST", "/proxies/p/toxics", { name: "t", type: "latency" });
  }

  it("answers every request with an allowed status and keeps serving", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 6 }), async (requests) => {
        await resetState();
        for (const { route, body: payload } of requests) {
          const [method, path] = route;
          const response = await api(url, method, path, method === "GET" ? undefined : payload);
          const what = `${method} ${path} → ${response.status} ${response.text}`;
          const bindFailure = response.status === 500 && response.text.includes('"listen tcp');
          expect(ALLOWED_STATUSES.has(response.status) || bindFailure, what).toBe(true);
          const jsonError = response.status >= 400 && response.text.startsWith("{");
          if (jsonError) expect(response.json(), what).toMatchObject({ error: expect.any(String) });
        }
        expect((await api(url, "GET", "/version")).status).toBe(200);
      }),
      { numRuns: 80 },
    );
  });
});
