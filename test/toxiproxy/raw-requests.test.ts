// The fault proxy's control plane under raw requests over real sockets (test/support/raw-http.ts):
// generated request lines, headers and bodies, delivered whole, slowly or cut off. fuzz.test.ts
// sends well-formed HTTP with bad documents; this sends what no client library would. Nothing
// answers 5xx but a failure to bind a listen address, and the next request is served.

import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startToxiproxy, type RunningToxiproxy } from "../../harness/toxiproxy/server.ts";
import {
  describeRequest,
  exchange,
  literalRequest,
  rawRequest,
  statusOf,
} from "../support/raw-http.ts";
import { api, closedPort } from "./helpers.ts";

const ROUTES = [
  "/proxies",
  "/proxies/p",
  "/proxies/p/toxics",
  "/proxies/p/toxics/t",
  "/populate",
  "/reset",
  "/version",
];

describe("the control plane under raw requests", () => {
  let server: RunningToxiproxy | undefined;
  let upstream = "";
  const port = (): number => server!.port;

  beforeAll(async () => {
    server = await startToxiproxy({
      host: "127.0.0.1",
      port: 0,
      seed: 7,
      limits: { maxBodyBytes: 4_096, requestTimeoutMs: 200 },
    });
    upstream = `127.0.0.1:${await closedPort()}`;
  });
  afterAll(async () => {
    await server?.close();
  });

  it("answers a request whose body never arrives with 408, then serves others", async () => {
    const request = literalRequest(
      "POST /proxies HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n",
      "{",
    );
    const { statuses } = await exchange(port(), request, "/version");
    expect(statuses).toEqual([408]);
    expect(await statusOf(port(), "/version")).toBe(200);
  });

  it("answers the request targets that broke the pipeline's host with 404, then serves", async () => {
    for (const target of ["//[/", "http://%zz/", "http://[::1/", "/proxies/%zz"]) {
      const request = literalRequest(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      expect((await exchange(port(), request, "/version")).statuses, target).toEqual([404, 200]);
    }
  });

  it("never answers 5xx to generated raw requests, and keeps serving", async () => {
    await fc.assert(
      fc.asyncProperty(rawRequest(ROUTES), async (request) => {
        // Each run starts from one proxy `p` with one toxic `t`, so deeper paths are reached.
        await api(server!.url, "POST", "/reset");
        await api(server!.url, "DELETE", "/proxies/p");
        await api(server!.url, "POST", "/proxies", { name: "p", upstream });
        await api(server!.url, "POST", "/proxies/p/toxics", { name: "t", type: "latency" });
        const { statuses, text } = await exchange(port(), request, "/version");
        const bindFailure = text.includes('"listen tcp');
        for (const status of statuses) {
          if (!(status === 500 && bindFailure))
            expect(status, describeRequest(request)).toBeLessThan(500);
        }
        expect(await statusOf(port(), "/version"), describeRequest(request)).toBe(200);
      }),
      { numRuns: Number(process.env.RAW_REQUEST_RUNS ?? 40) },
    );
  });
});
