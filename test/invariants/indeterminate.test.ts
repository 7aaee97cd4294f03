// Indeterminate events have a bound: a pipeline that answers slower than the producer's
// timeout leaves most events' outcome unknown, and no-silent-loss says unknown rather than
// "held vacuously". The share is the experiment's (verdict.indeterminateShareMax, 1% by
// default), checked when the experiment is read; the terminal summary shows every category.

import { execa } from "execa";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ExperimentError, parseExperiment } from "../../harness/experiment/definition.ts";

const directory = mkdtempSync(path.join(os.tmpdir(), "spillway-indeterminate-"));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

/** The buffer answers the forwarder 400 ms late for 3 s; the producer waits 150 ms, twice. */
const slowerThanTimeout = {
  name: "slower-than-timeout",
  description: "the pipeline answers slower than the producer's timeout for a while",
  topology: { sinks: 1, limits: { configPollMs: 100 } },
  workload: {
    tenants: 4,
    jobShare: 0.5,
    eventsPerSecond: 400,
    batchSize: 20,
    requestTimeoutMs: 150,
    maxAttempts: 2,
  },
  duration: "6s",
  warmup: "1s",
  steadyState: { deliveringWithin: "500ms" },
  method: [
    {
      at: "1s",
      for: "3s",
      fault: { kind: "network.latency", link: "forwarder->buffer", latency: 400 },
    },
  ],
  drain: { timeout: "10s" },
};

describe("verdict.indeterminateShareMax", () => {
  it("defaults to 1% and takes the experiment's share", () => {
    expect(parseExperiment(slowerThanTimeout, "test").verdict.indeterminateShareMax).toBe(0.01);
    const stated = parseExperiment(
      { ...slowerThanTimeout, verdict: { indeterminateShareMax: 0.25 } },
      "test",
    );
    expect(stated.verdict.indeterminateShareMax).toBe(0.25);
  });

  it.each([1.5, -0.1, "1%"])("refuses %j, naming the field and the value", (value) => {
    const parse = () =>
      parseExperiment({ ...slowerThanTimeout, verdict: { indeterminateShareMax: value } }, "x");
    expect(parse).toThrow(ExperimentError);
    expect(parse).toThrow(
      `verdict.indeterminateShareMax: ${JSON.stringify(value)}: expected a share from 0 to 1 (0.01 is 1%)`,
    );
  });
});

describe("a pipeline slower than the producer's timeout, end to end on the simulator", () => {
  it(
    "gives no-silent-loss unknown, not held, and the summary shows every ledger category",
    { timeout: 60_000 },
    async () => {
      const file = path.join(directory, "slower-than-timeout.json");
      writeFileSync(file, JSON.stringify(slowerThanTimeout));
      const result = await execa(
        process.execPath,
        [path.resolve("harness/cli/main.ts"), "run", file, "--runtime", "sim"],
        { reject: false, timeout: 60_000 },
      );
      // Expected to hold by default: unknown is not as expected.
      expect(result.exitCode, result.stderr).toBe(1);
      expect(result.stdout).toMatch(/^no-silent-loss +unknown ✗ \(expected held\)$/m);
      expect(result.stdout).toMatch(
        /no-silent-loss: no expected event was lost, but [\d,]+ events are indeterminate \([\d.]+% of the [\d,]+ expected; at most 1\.0% allowed\)/,
      );
      for (const label of [
        "produced",
        "acknowledged",
        "rejected",
        "indeterminate",
        "unconfigured",
        "expected",
        "delivered",
        "declared dropped",
        "lost silently",
        "duplicated",
        "misdelivered",
        "unexpected",
        "delivered without job",
      ]) {
        expect(result.stdout, label).toMatch(new RegExp(`^${label} +[\\d,]+`, "m"));
      }
      const indeterminate = Number(
        /^indeterminate +([\d,]+)/m.exec(result.stdout)![1]!.replaceAll(",", ""),
      );
      expect(indeterminate).toBeGreaterThan(100);
    },
  );
});
