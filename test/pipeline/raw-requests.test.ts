// Bad requests through real sockets (test/support/raw-http.ts): raw request lines, headers and
// bodies, delivered whole, slowly or cut off, against every component served by the host
// (pipeline/host/server.ts). Every answer is below 500 and the next request is served: on the
// same connection, and on a fresh one. A real sink process survives the request targets that
// killed it before.

import fc from "fast-check";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import path from "node:path";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Limits } from "../../pipeline/core/limits.ts";
import { serve, type RunningServer } from "../../pipeline/host/server.ts";
import { TWO_JOBS } from "../support/events.ts";
import { InProcessPipeline, quietLog } from "../support/in-process.ts";
import {
  describeRequest,
  exchange,
  literalRequest,
  rawRequest,
  statusOf,
  type RawRequest,
} from "../support/raw-http.ts";
import { useTempDir } from "../support/temp-dir.ts";

/** Small enough that generated bodies pass it and requests never finished time out quickly. */
const HOST_LIMITS: Pick<Limits, "maxBodyBytes" | "requestTimeoutMs"> = {
  maxBodyBytes: 4_096,
  requestTimeoutMs: 200,
};

const OBSERVABILITY = ["/healthz", "/metrics", "/drops", "/drops?cursor=0&max=5"];
const ROUTES: Readonly<Record<string, readonly string[]>> = {
  config: ["/config", "/jobs", "/jobs/job-0", "/config/push", "/config/revert", "/timeline"],
  forwarder: ["/ingest", "/config-log"],
  buffer: ["/append", "/lease", "/ack", "/release", "/stats"],
  pusher: [],
  "sink-0": ["/ingest/t1.http", "/records", "/fault"],
};
const COMPONENTS = Object.keys(ROUTES);

const requestTo = (component: string): fc.Arbitrary<RawRequest> =>
  rawRequest([...OBSERVABILITY, ...(ROUTES[component] ?? [])]);

/** The request lines the issue reported: `new URL` threw on them and the process died. */
const REPORTED: Array<[string, string]> = [
  ["GET //[/ HTTP/1.1", 'request target "//[/" is not a valid URL'],
  ["GET http://%zz/ HTTP/1.1", 'request target "http://%zz/" is not a valid URL'],
  ["GET http://[::1/ HTTP/1.1", 'request target "http://[::1/" is not a valid URL'],
];
const withHost = (line: string): RawRequest => literalRequest(`${line}\r\nHost: 127.0.0.1\r\n\r\n`);

/** A generated body may switch a sink fault on (a slow or failing sink); each run starts without. */
const NO_SINK_FAULT = literalRequest(
  'POST /fault HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 15\r\n\r\n{"mode":"none"}',
);

/** No answer at or above 500, on the bad request or the good one after it. */
function expectNoServerError(statuses: number[], request: RawRequest): void {
  for (const status of statuses) expect(status, describeRequest(request)).toBeLessThan(500);
}

describe("every component, hosted in-process on a real port", () => {
  const pipeline = new InProcessPipeline({ settings: { config: TWO_JOBS } });
  const servers = new Map<string, RunningServer>();
  const portOf = (component: string): number => servers.get(component)!.port;

  beforeAll(async () => {
    await pipeline.startAll();
    for (const component of COMPONENTS) {
      const { handle } = pipeline.components.get(component)!;
      const server = await serve({
        handle,
        host: "127.0.0.1",
        port: 0,
        limits: HOST_LIMITS,
        log: quietLog,
      });
      servers.set(component, server);
    }
  });
  afterAll(async () => {
    for (const server of servers.values()) await server.close();
    await pipeline.stopAll();
  });

  it.each(
    COMPONENTS.flatMap((component) => REPORTED.map(([line, error]) => [component, line, error])),
  )(
    "%s answers %s with 400 naming the target, then serves the next request",
    async (component, line, error) => {
      const { statuses, text } = await exchange(portOf(component), withHost(line), "/healthz");
      expect(statuses).toEqual([400, 200]);
      expect(text).toContain(`{"error":${JSON.stringify(error)},"status":400}`);
    },
  );

  it("answers a malformed percent-encoded route parameter with 400, not 500", async () => {
    const request = literalRequest(
      "DELETE /jobs/%zz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n",
    );
    const { statuses, text } = await exchange(portOf("config"), request, "/healthz");
    expect(statuses).toEqual([400, 200]);
    expect(text).toContain('malformed percent-encoding in \\"%zz\\"');
  });

  it("answers a request whose body never arrives with 408, then serves others", async () => {
    const request = literalRequest(
      "POST /ingest HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n",
      "{",
    );
    const { statuses } = await exchange(portOf("forwarder"), request, "/healthz");
    expect(statuses).toEqual([408]);
    expect(await statusOf(portOf("forwarder"), "/healthz")).toBe(200);
  });

  it("never answers 5xx to generated raw requests, and keeps serving", async () => {
    const generated = fc
      .constantFrom(...COMPONENTS)
      .chain((component) => requestTo(component).map((request) => ({ component, request })));
    await fc.assert(
      fc.asyncProperty(generated, async ({ component, request }) => {
        const port = portOf(component);
        const { statuses } = await exchange(port, request, "/healthz");
        expectNoServerError(statuses, request);
        expect(await statusOf(port, "/healthz"), describeRequest(request)).toBe(200);
        await exchange(portOf("sink-0"), NO_SINK_FAULT, "/healthz");
      }),
      { numRuns: Number(process.env.RAW_REQUEST_RUNS ?? 60) },
    );
  });
});

describe("a sink as a real process", () => {
  const dataDir = useTempDir("spillway-raw-requests-");
  let sink: ChildProcess | undefined;
  let port = 0;

  beforeAll(async () => {
    sink = spawn(
      process.execPath,
      [
        path.resolve("pipeline/host/main.ts"),
        "sink",
        "--data-dir",
        dataDir,
        "--limits",
        JSON.stringify(HOST_LIMITS),
        "--parent-pid",
        String(process.pid),
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    for await (const line of createInterface({ input: sink.stdout! })) {
      const record = JSON.parse(line) as { msg?: string; port?: number };
      if (record.msg === "ready") {
        port = record.port!;
        break;
      }
    }
  });
  afterAll(async () => {
    if (sink !== undefined && sink.exitCode === null && sink.signalCode === null) {
      const exited = once(sink, "exit");
      sink.kill("SIGTERM");
      await exited;
    }
  });

  const alive = (): boolean => sink?.exitCode === null && sink.signalCode === null;

  it.each(REPORTED.map(([line]) => line))(
    "lives through %s and serves the next request",
    async (line) => {
      const { statuses } = await exchange(port, withHost(line), "/healthz");
      expect(statuses).toEqual([400, 200]);
      expect(alive()).toBe(true);
    },
  );

  it("lives through generated raw requests", async () => {
    await fc.assert(
      fc.asyncProperty(requestTo("sink-0"), async (request) => {
        const { statuses } = await exchange(port, request, "/healthz");
        expectNoServerError(statuses, request);
        expect(alive(), describeRequest(request)).toBe(true);
        expect(await statusOf(port, "/healthz"), describeRequest(request)).toBe(200);
        await exchange(port, NO_SINK_FAULT, "/healthz");
      }),
      { numRuns: Number(process.env.RAW_REQUEST_RUNS ?? 60) / 3 },
    );
  });
});
