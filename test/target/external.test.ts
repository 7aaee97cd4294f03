// An external service (docs/targets.md, "External services"): already running, at an address
// Spillway did not choose. Its links go through the fault proxy, so network faults act on them;
// process faults are refused when the experiment loads; and the run leaves it running.

import { execa, type ResultPromise } from "execa";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tcpAnswers } from "../../harness/target/external-service.ts";
import { loadExperimentAndTarget } from "../../harness/target/load.ts";
import { runOnTarget } from "../../harness/target/run.ts";
import { freeLoopbackPort } from "./recorders/support.ts";
import { available } from "./shipped-support.ts";

describe.skipIf(!available)("an external service", () => {
  let scratch = "";
  let redis: ResultPromise | undefined;
  let port = 0;

  beforeAll(async () => {
    scratch = mkdtempSync(path.join(tmpdir(), "spillway-external-"));
    port = await freeLoopbackPort();
    redis = execa(
      "redis-server",
      [
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        scratch,
      ],
      { reject: false, stdio: "ignore" },
    );
    for (let attempt = 0; attempt < 100 && !(await tcpAnswers("127.0.0.1", port)); attempt++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    writeFileSync(
      path.join(scratch, "target.yaml"),
      [
        "name: external-redis",
        "description: a Redis Spillway did not start",
        "services:",
        `  - { name: redis, external: { host: 127.0.0.1, ports: { redis: ${port} } } }`,
        "links:",
        '  - { from: workload, to: "redis:redis" }',
        '  - { from: recorder, to: "redis:redis" }',
        "ingress: { link: workload->redis, kind: redis-streams, stream: external }",
        "egresses:",
        "  - { name: recorder, kind: redis-streams, stream: external, group: spillway }",
        "routes:",
        "  - { egress: recorder }",
      ].join("\n"),
    );
  });

  afterAll(async () => {
    redis?.kill("SIGKILL");
    await redis;
    rmSync(scratch, { recursive: true, force: true });
  });

  function experiment(name: string, fault: string): string {
    const file = path.join(scratch, `${name}.yaml`);
    writeFileSync(
      file,
      [
        `name: ${name}`,
        "description: an experiment on an external service",
        "target: target.yaml",
        "workload: { tenants: 2, datasets: [app], eventsPerSecond: 500, batchSize: 50 }",
        "duration: 4s",
        "warmup: 1s",
        "method:",
        `  - ${fault}`,
        "drain: { timeout: 10s, quiet: 2s }",
        "invariants: [no-silent-loss]",
      ].join("\n"),
    );
    return file;
  }

  it("takes network faults on its links, and is left running", async () => {
    const file = experiment(
      "external-link",
      "{ at: 0s, for: 1s, fault: { kind: network.down, link: recorder->redis } }",
    );
    const { experiment: loaded, target } = await loadExperimentAndTarget(file);
    const journal = await runOnTarget(loaded, target!, { seed: 1 });
    expect(journal.status, journal.error).toBe("completed");
    expect(journal.steps.find((step) => step.phase === "method")).toMatchObject({
      name: "network.down",
      ok: true,
    });
    expect(journal.verdict!.ledger.expected).toBeGreaterThan(0);
    expect(journal.verdict!.invariants["no-silent-loss"]!.status).toBe("held");
    expect(await tcpAnswers("127.0.0.1", port)).toBe(true);
  }, 60_000);

  it("refuses a process fault on it when the experiment loads", async () => {
    const file = experiment(
      "external-kill",
      "{ at: 1s, fault: { kind: process.kill, service: redis } }",
    );
    await expect(loadExperimentAndTarget(file)).rejects.toThrow(
      /method\[0\]\.fault\.service: "redis": process\.kill is refused on an external service/,
    );
  });
});
