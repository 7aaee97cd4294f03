// Container services of a target (docs/targets.md, "Container services") on a real Docker
// engine, with a Redis image built from the host's own redis-server (fixtures/redis-image.ts):
// the redis-streams target with Redis in a container runs end to end and loses acknowledged
// entries to a SIGKILL of the container on volatile; the handle kills, restarts the same
// container on the same port with its data, pauses, reads its memory from outside, is killed by
// a memory cap and follows its logs; a failed start says why; and no container is left after
// any of it. Skipped without Docker (or redis-server) unless CI is set, where it must run.

import { Redis } from "ioredis";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { dockerClient } from "../../harness/runtime/container/docker.ts";
import { EventLog } from "../../harness/runtime/events.ts";
import { ServiceLog } from "../../harness/runtime/process/service-log.ts";
import {
  loadExperimentAndTarget,
  loadTarget,
  parseTarget,
  type LoadedTarget,
} from "../../harness/target/load.ts";
import { allocatePorts } from "../../harness/target/ports.ts";
import { runOnTarget } from "../../harness/target/run.ts";
import {
  TargetContainerService,
  type TargetContainerOptions,
} from "../../harness/target/service/container-service.ts";
import { containersOf, describeContainers } from "../container/support.ts";
import { eventually } from "../runtime/support.ts";
import { redisImage } from "./fixtures/redis-image.ts";

const TARGET = "test/target/fixtures/redis-container.yaml";
const EXPERIMENT = "targets/redis-streams/buffer-kill.yaml";
const RUN_TIMEOUT_MS = 90_000;
const BUILD_TIMEOUT_MS = 60_000;
const TEST_LIMITS = { stopGraceMs: 2_000, killWaitMs: 5_000, healthPollMs: 20, memoryPollMs: 50 };

const redisInstalled = existsSync("/usr/bin/redis-server");
if (!redisInstalled && process.env.CI !== undefined)
  throw new Error("redis-server must be installed on CI (.ci/run installs it)");

/** The problems parseTarget lists for a target with `service` as its one service. */
function problemsWith(service: Record<string, unknown>): string {
  const input = {
    name: "one-container",
    description: "one container",
    services: [{ name: "relay", ports: ["in"], ...service }],
    links: [{ from: "workload", to: "relay:in" }],
    ingress: { link: "workload->relay", kind: "syslog" },
    egresses: [{ name: "out", kind: "file", path: "out.log" }],
    routes: [{ egress: "out" }],
  };
  try {
    parseTarget(input, path.resolve("test/target/fixtures/target.yaml"));
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected the target to be refused");
}

describe("container services in target files", () => {
  it("loads a target whose service is a container", async () => {
    const target = await loadTarget(TARGET);
    expect(target.spec.services[0]!.container?.image).toBe("spillway-test/redis:local");
  });

  it("a container service is checked as a process is: a probe, its placeholders, and the files it mounts", () => {
    const problems = problemsWith({
      container: {
        image: "vector:local",
        command: ["--config", "{{spillway.file.vector.yaml}}", "{{spillway.port.inn}}"],
        files: { "vector.yaml": "/etc/vector/vector.yaml", "other.yaml": "/etc/other.yaml" },
      },
      files: [{ path: "vector.yaml", template: "redis-container.yaml" }],
    });
    expect(problems).toMatch(/services\[0\]\.ready: missing/);
    expect(problems).toMatch(
      /services\[0\]\.container\.command\[2\]: "\{\{spillway\.port\.inn\}\}": not a placeholder this service has/,
    );
    expect(problems).toMatch(
      /services\[0\]\.container\.files: "other\.yaml": expected the path of one of its files: vector\.yaml/,
    );
    expect(problems).not.toMatch(/vector\.yaml\}\}": not a placeholder/);
  });

  it("a file mounted into a container goes to an absolute path", () => {
    const problems = problemsWith({
      container: { image: "vector:local", files: { "vector.yaml": "etc/vector.yaml" } },
      ready: { tcp: "in" },
    });
    expect(problems).toMatch(
      /services\[0\]\.container\.files\.vector\.yaml: "etc\/vector\.yaml": expected an absolute path inside the container/,
    );
  });

  it("a service is exactly one of process, container or external", () => {
    expect(
      problemsWith({
        process: { command: ["relayd"] },
        container: { image: "relay:local" },
        ready: { tcp: "in" },
      }),
    ).toMatch(/services\[0\]: .*expected exactly one of process, container or external/);
  });
});

describeContainers("target container services", () => {
  if (!redisInstalled) {
    it.skip("needs redis-server (Debian's redis-server) to build the test image", () => {});
    return;
  }
  const made: Array<{ service: TargetContainerService; log: ServiceLog }> = [];
  let root = "";
  let image = "";

  beforeAll(async () => {
    // Made here, not when the suite is collected: a skipped suite runs no afterAll.
    root = mkdtempSync(path.join(tmpdir(), "spillway-target-container-test-"));
    image = await redisImage();
  }, BUILD_TIMEOUT_MS);
  afterEach(async () => {
    for (const { service, log } of made.splice(0)) {
      await service.release().catch(() => service.killNow());
      await log.close();
    }
  });
  afterAll(() => {
    if (root !== "") rmSync(root, { recursive: true, force: true });
  });

  /** A Redis container service on a port of its own, `appendonly` as given, not started. */
  async function redisService(
    options: Partial<TargetContainerOptions> & { appendonly?: "yes" | "no" } = {},
  ) {
    const [port] = await allocatePorts(1);
    const runDir = mkdtempSync(path.join(root, "run-"));
    const configDir = path.join(runDir, "config");
    const dataDir = path.join(runDir, "data");
    mkdirSync(configDir);
    const config = path.join(configDir, "redis.conf");
    writeFileSync(
      config,
      [
        `port ${port}`,
        "bind 127.0.0.1",
        "daemonize no",
        `dir ${dataDir}`,
        'save ""',
        `appendonly ${options.appendonly ?? "no"}`,
        "appendfsync always",
      ].join("\n") + "\n",
    );
    const log = new ServiceLog(path.join(runDir, "redis.log"), { lines: 200, lineChars: 1_000 });
    const events = new EventLog();
    const service = new TargetContainerService({
      name: "redis",
      image,
      command: ["/usr/bin/redis-server", config],
      configDir,
      dataDir,
      runId: `test-${path.basename(runDir)}`,
      log,
      events,
      readiness: { tcp: { host: "127.0.0.1", port: port! } },
      readyTimeoutMs: 10_000,
      address: `tcp://127.0.0.1:${port}`,
      limits: TEST_LIMITS,
      ...options,
    });
    made.push({ service, log });
    return { service, events, port: port! };
  }

  async function withRedis<T>(port: number, use: (redis: Redis) => Promise<T>): Promise<T> {
    const redis = new Redis({
      port,
      host: "127.0.0.1",
      lazyConnect: true,
      maxRetriesPerRequest: 1,
    });
    try {
      await redis.connect();
      return await use(redis);
    } finally {
      redis.disconnect();
    }
  }

  it(
    "a target with Redis in a container runs end to end: a SIGKILL of the container loses acknowledged entries on volatile",
    async () => {
      const { experiment, target } = await loadExperimentAndTarget(EXPERIMENT, TARGET);
      const journal = await runOnTarget(experiment, target!, { seed: 1, variant: "volatile" });
      expect(journal.status).toBe("completed");
      const loss = journal.verdict!.invariants["no-silent-loss"]!;
      const evidence = loss.evidence as { lost: number; lostOutsideFaultWindows: number };
      expect(loss.status).toBe("violated");
      expect(evidence.lost).toBeGreaterThan(0);
      // Entries added just before the consumer's link went down, not yet read, are lost to the
      // kill too but produced outside every fault window: as with Redis as a process.
      expect(evidence.lostOutsideFaultWindows).toBeLessThan(evidence.lost);
      expect(journal.verdict!.ledger.delivered).toBeGreaterThan(0);
      expect(journal.asExpected).toBe(true);
      // The container's memory was read from outside all along.
      const [memory] = (
        journal.verdict!.target as { bounds: { memory: Array<{ peakMb: number | null }> } }
      ).bounds.memory;
      expect(memory!.peakMb).toBeGreaterThan(0);
      expect(await containersOf(process.pid)).toEqual([]);
    },
    RUN_TIMEOUT_MS,
  );

  it(
    "a target whose container exits at once fails to start with its log lines, leaving no container",
    async () => {
      const { experiment, target } = await loadExperimentAndTarget(EXPERIMENT, TARGET);
      const [redis] = target!.spec.services;
      const broken: LoadedTarget = {
        ...target!,
        spec: {
          ...target!.spec,
          services: [
            {
              ...redis!,
              container: {
                ...redis!.container!,
                command: ["/usr/bin/redis-server", "/nowhere.conf"],
              },
            },
          ],
        },
      };
      const journal = await runOnTarget(experiment, broken, { seed: 1, variant: "volatile" });
      expect(journal.status).toBe("failed");
      expect(journal.error).toMatch(
        /service "redis" \(container spillway-test\/redis:local\) exited at once \(exit code 1\)/,
      );
      expect(journal.error).toMatch(/open config file/);
      expect(await containersOf(process.pid)).toEqual([]);
    },
    RUN_TIMEOUT_MS,
  );

  it("an image the engine does not have is an error saying so; nothing is created", async () => {
    const { service } = await redisService({ image: "spillway-test/absent:none" });
    await expect(service.start()).rejects.toThrow(
      /image "spillway-test\/absent:none" is not on this Docker engine, and Spillway pulls nothing/,
    );
    expect(await containersOf(process.pid)).toEqual([]);
  });

  it("a SIGKILL stops the container; restart starts the same one on the same port, its data kept", async () => {
    const { service, events, port } = await redisService({ appendonly: "yes" });
    await service.start();
    const id = service.containerId();
    await withRedis(port, (redis) => redis.set("kept", "yes"));
    expect(await service.kill("SIGKILL")).toEqual({ code: null, signal: "SIGKILL" });
    expect(service.state()).toBe("exited");
    await service.restart();
    expect(service.containerId()).toBe(id);
    expect(await withRedis(port, (redis) => redis.get("kept"))).toBe("yes");
    expect(events.list().filter((event) => event.kind === "ready")).toHaveLength(2);
    await service.release();
    expect(await containersOf(process.pid)).toEqual([]);
  }, 30_000);

  it("pause freezes the container and resume thaws it; its memory is read from outside; its log is followed", async () => {
    const { service, port } = await redisService({
      readiness: { logLine: /Ready to accept connections/ },
    });
    await service.start();
    expect(service.logs().some((line) => /Ready to accept connections/.test(line.text))).toBe(true);
    const bytes = await service.memoryBytes();
    expect(bytes).toBeGreaterThan(1024 * 1024);
    expect(bytes).toBeLessThan(1024 * 1024 * 1024);
    const docker = (await dockerClient()).container.dockerode.getContainer(service.containerId()!);
    await service.pause();
    expect(service.state()).toBe("paused");
    expect((await docker.inspect()).State.Paused).toBe(true);
    await service.resume();
    expect((await docker.inspect()).State.Paused).toBe(false);
    expect(await withRedis(port, (redis) => redis.ping())).toBe("PONG");
  }, 30_000);

  it("a memory cap below what it uses kills the container, as on a process", async () => {
    const { service, events } = await redisService();
    await service.start();
    service.setMemoryCap(1);
    expect(await eventually(() => service.state() === "exited", 10_000)).toBe(true);
    const kinds = events
      .list()
      .map((event) => (event.kind === "exited" ? `exited:${event.cause}` : event.kind));
    expect(kinds).toContain("memory-cap-exceeded");
    expect(kinds).toContain("exited:memory-cap");
  }, 30_000);
});
