// A target's service is ready when its readiness probe passes, seen from outside: a TCP connect,
// an HTTP status, or a line in its log; one that never passes is an error naming the probe.

import { once } from "node:events";
import { readlinkSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it, onTestFinished } from "vitest";
import { groupMembers } from "../../../harness/runtime/process/process-group.ts";
import { closedPort } from "../../toxiproxy/helpers.ts";
import {
  eventKinds,
  redisCommand,
  redisPing,
  redisServerMissing,
  startedPid,
  useTargetServices,
} from "./support.ts";

const { create } = useTargetServices();

/** A Node HTTP server on `port` answering every request with `status`. */
function httpServerCommand(port: number, status: number): string[] {
  const script = `require("node:http").createServer((q, s) => { s.statusCode = ${status}; s.end(); }).listen(${port}, "127.0.0.1")`;
  return [process.execPath, "-e", script];
}

describe.skipIf(redisServerMissing())("with redis-server", () => {
  it("is ready once its TCP port accepts, and url() is its address", async () => {
    const port = await closedPort();
    const address = `tcp://127.0.0.1:${port}`;
    const { service, events, dataDir } = create({
      name: "redis",
      command: redisCommand(port, "."),
      readiness: { tcp: { host: "127.0.0.1", port } },
      address,
    });
    await service.start();
    expect(service.state()).toBe("running");
    expect(service.url()).toBe(address);
    expect(await redisPing(port)).toBe("+PONG");
    expect(await service.health()).toBe(true);
    expect(events.list().find((event) => event.kind === "ready")).toMatchObject({ url: address });
    // Its working directory defaults to its data dir, which start made.
    expect(readlinkSync(`/proc/${service.pid()}/cwd`)).toBe(dataDir);
    await service.kill();
    expect(await service.health()).toBe(false);
  });
});

it("is ready once its HTTP URL answers the expected status", async () => {
  const port = await closedPort();
  const url = `http://127.0.0.1:${port}/`;
  const { service } = create({
    command: httpServerCommand(port, 204),
    readiness: { http: { url, status: 204 } },
    address: url,
  });
  await service.start();
  expect(await service.health()).toBe(true);
});

it("an HTTP answer of another status is not ready: the error says what it answered", async () => {
  // A server of the test's own, listening before the service starts, so that the probe gets
  // its answer whatever the machine's load.
  const server = createServer((_, response) => {
    response.statusCode = 503;
    response.end();
  }).listen(0, "127.0.0.1");
  onTestFinished(() => void server.close());
  await once(server, "listening");
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  const { service } = create({
    command: ["sleep", "1000"],
    readiness: { http: { url } },
    readyTimeoutMs: 1_000,
  });
  await expect(service.start()).rejects.toThrow(
    `was not ready within 1000 ms: GET ${url} answered 503, expected 2xx`,
  );
  expect(service.state()).toBe("exited");
});

it("is ready once a log line matches, on stdout or stderr", async () => {
  const { service, events } = create({
    command: ["sh", "-c", "echo booting; sleep 0.2; echo 'server started' >&2; exec sleep 1000"],
    readiness: { logLine: /server started/ },
  });
  await service.start();
  expect(service.logs().map((line) => line.text)).toEqual(["booting", "server started"]);
  expect(eventKinds(events)).toEqual(["started", "ready"]);
  // A log line only says it started; healthy then means its leader lives.
  expect(await service.health()).toBe(true);
  await service.pause();
  await service.resume();
  await service.waitReady(1_000);
});

it("never ready within the timeout: the error names the probe and quotes the log, and nothing is left", async () => {
  const port = await closedPort();
  const { service, events } = create({
    command: ["sh", "-c", "echo listening elsewhere; sleep 1000"],
    readiness: { tcp: { host: "127.0.0.1", port } },
    readyTimeoutMs: 400,
  });
  const failure = service.start();
  await expect(failure).rejects.toThrow(
    new RegExp(
      `was not ready within 400 ms: TCP connect to 127.0.0.1:${port} failed: ECONNREFUSED; its last log lines \\(all in .*\\):\\n  listening elsewhere`,
    ),
  );
  expect(await groupMembers(startedPid(events))).toEqual([]);
  expect(eventKinds(events)).toEqual(["started", "exited:requested"]);
});
