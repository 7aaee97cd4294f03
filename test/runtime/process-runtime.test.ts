import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import type { ProcessTopology } from "../../harness/runtime/process/process-runtime.ts";
import type { TopologySpec } from "../../harness/runtime/topology.ts";
import { directLinks, type LinkProvider, type LinkRequest } from "../../harness/runtime/links.ts";
import { probeHealth } from "../../harness/runtime/process/health.ts";
import { isAlive } from "../../harness/runtime/process/proc.ts";
import { getJson, useFixtureRuntime } from "./support.ts";

const runtime = useFixtureRuntime();

const pipeline: TopologySpec = {
  services: [
    { name: "config", component: "config" },
    { name: "sink-0", component: "sink" },
    { name: "buffer", component: "buffer", peers: ["config"] },
    { name: "pusher", component: "pusher", peers: ["config", "buffer", "sink-0"] },
  ],
};

/** Direct links that remember what was opened and whether they were closed. */
function recordingLinks(): LinkProvider & { opened: LinkRequest[]; closed: boolean } {
  const direct = directLinks();
  const provider = {
    opened: [] as LinkRequest[],
    closed: false,
    open(link: LinkRequest) {
      provider.opened.push(link);
      return direct.open(link);
    },
    async close() {
      provider.closed = true;
    },
  };
  return provider;
}

describe("process runtime: a started topology", () => {
  const links = recordingLinks();
  let topology: ProcessTopology;
  beforeAll(async () => {
    topology = await runtime.startShared(pipeline, { links });
  });

  it("runs every service on its own loopback port, ready and answering /healthz", async () => {
    const urls = topology.services.map((service) => service.url());
    expect(new Set(urls).size).toBe(4);
    for (const service of topology.services) {
      expect(service.url()).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(service.state()).toBe("running");
      expect(await probeHealth(service.url(), 5_000)).toEqual({ status: 200 });
    }
  });

  it("started every service only once its peers were ready", () => {
    const readyAt = new Map<string, number>();
    const startedAt = new Map<string, number>();
    for (const event of topology.events()) {
      if (event.kind === "ready") readyAt.set(event.service, event.at);
      if (event.kind === "started") startedAt.set(event.service, event.at);
    }
    for (const service of pipeline.services) {
      for (const peer of service.peers ?? []) {
        expect(startedAt.get(service.name)).toBeGreaterThanOrEqual(readyAt.get(peer)!);
      }
    }
  });

  it("gave each service its peers' URLs from the link provider, one link per (service, peer)", async () => {
    expect(links.opened.map((link) => link.name).sort()).toEqual([
      "buffer->config",
      "pusher->buffer",
      "pusher->config",
      "pusher->sink-0",
    ]);
    const pusherToBuffer = links.opened.find((link) => link.name === "pusher->buffer");
    expect(pusherToBuffer?.upstream).toBe(topology.service("buffer").url());
    expect(await getJson(`${topology.service("pusher").url()}/peers`)).toEqual({
      config: topology.service("config").url(),
      buffer: topology.service("buffer").url(),
      "sink-0": topology.service("sink-0").url(),
    });
  });

  it("keeps each service's log lines in memory and in a file of the run directory", () => {
    const sink = topology.service("sink-0");
    const lines = sink.logs();
    expect(
      lines.some((line) => line.stream === "stdout" && line.text.includes('"msg":"ready"')),
    ).toBe(true);
    expect(
      lines.some((line) => line.stream === "stderr" && line.text.includes("fixture sink-0 up")),
    ).toBe(true);
    expect(readFileSync(sink.logPath(), "utf8")).toContain('"msg":"ready"');
    expect(path.dirname(sink.logPath())).toBe(path.join(topology.runDir, "logs"));
  });

  it("names the known services when asked for an unknown one", () => {
    expect(() => topology.service("sink-9")).toThrow(
      'service "sink-9" is not in the topology; expected one of: config, sink-0, buffer, pusher',
    );
  });
});

describe("process runtime: stop", () => {
  const keeping = useFixtureRuntime({ keepRunDir: true });

  it("ends every process, closes the links and removes the run directory", async () => {
    const links = recordingLinks();
    const topology = await runtime.start(pipeline, { links });
    const pids = topology.services.map((service) => service.pid()!);
    await topology.stop();
    expect(pids.filter(isAlive)).toEqual([]);
    expect(links.closed).toBe(true);
    expect(existsSync(topology.runDir)).toBe(false);
    const exits = topology.events().filter((event) => event.kind === "exited");
    expect(exits.map((event) => event.kind === "exited" && event.cause)).toEqual(
      Array(4).fill("requested"),
    );
  });

  it("SIGKILLs a service that ignores SIGTERM once the grace period is over", async () => {
    const topology = await runtime.start({
      services: [{ name: "sink-0", component: "sink", settings: { ignoreSigterm: true } }],
    });
    const pid = topology.service("sink-0").pid()!;
    await topology.stop();
    expect(isAlive(pid)).toBe(false);
    expect(topology.events().at(-1)).toMatchObject({
      kind: "exited",
      signal: "SIGKILL",
      cause: "requested",
    });
  });

  it("keeps the run directory, with logs and data, when asked to", async () => {
    const topology = await keeping.start({ services: [{ name: "sink-0", component: "sink" }] });
    await topology.stop();
    expect(readFileSync(path.join(topology.runDir, "logs", "sink-0.log"), "utf8")).toContain(
      '"msg":"stopping"',
    );
    expect(existsSync(path.join(topology.runDir, "data", "sink-0", "starts"))).toBe(true);
  });
});

describe("process runtime: start failures", () => {
  const failing = useFixtureRuntime();
  // A quick timeout where nothing could be ready anyway; a roomier one where the fixture must
  // first get as far as its ready line on a busy machine.
  const impatient = useFixtureRuntime({ limits: { readyTimeoutMs: 1_500 } });
  const waiting = useFixtureRuntime({ limits: { readyTimeoutMs: 8_000 } });

  it("fails with the service's last log lines when it exits before it is ready, leaving nothing behind", async () => {
    const pidDir = mkdtempSync(path.join(tmpdir(), "spillway-pids-"));
    onTestFinished(() => rmSync(pidDir, { recursive: true, force: true }));
    const start = failing.start({
      services: [
        { name: "config", component: "config", settings: { pidDir } },
        {
          name: "sink-0",
          component: "sink",
          peers: ["config"],
          settings: { pidDir, crashAfterMs: 0, neverReady: true },
        },
      ],
    });
    await expect(start).rejects.toThrow(
      /service "sink-0" \(sink\) exited before it was ready \(exit code 3\)[^]*"msg":"listening"/,
    );
    const pids = readdirSync(pidDir).map((name) =>
      Number(readFileSync(path.join(pidDir, name), "utf8")),
    );
    expect(pids).toHaveLength(2);
    expect(pids.filter(isAlive)).toEqual([]);
    expect(readdirSync(failing.tempRoot)).toEqual([]);
  });

  it("fails at once when the service exits while /healthz is not yet 200", async () => {
    const start = failing.start({
      services: [
        { name: "sink-0", component: "sink", settings: { unhealthy: true, crashAfterMs: 300 } },
      ],
    });
    await expect(start).rejects.toThrow(
      /service "sink-0" \(sink\) exited before it was ready \(exit code 3\)/,
    );
  });

  it("fails within the ready timeout when no ready line comes", async () => {
    const start = impatient.start({
      services: [{ name: "buffer", component: "buffer", settings: { neverReady: true } }],
    });
    await expect(start).rejects.toThrow(
      /service "buffer" \(buffer\) gave no "ready" line on stdout within 1500 ms/,
    );
  });

  it("fails when /healthz never answers 200", async () => {
    const start = waiting.start({
      services: [{ name: "sink-0", component: "sink", settings: { unhealthy: true } }],
    });
    await expect(start).rejects.toThrow(
      /service "sink-0" \(sink\) \/healthz answered 503 until the deadline/,
    );
  });
});
