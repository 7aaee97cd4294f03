// Indeterminate events have a bound: a pipeline that answers slower than the producer's
// timeout leaves most events' outcome unknown, and no-silent-loss says unknown rather than
// "held vacuously". The share is the experiment's (verdict.indeterminateShareMax, 1% by
// default), checked when the experiment is read; the terminal summary shows every category.

import { describe, expect, it } from "vitest";
import { ExperimentError, parseExperiment } from "../../harness/experiment/definition.ts";
import { smallExperiment, spillwayRunSim } from "./small-experiment.ts";

/** The buffer answers the forwarder 400 ms late for 3 s; the producer waits 150 ms, twice. */
const slowerThanTimeout = {
  workload: { requestTimeoutMs: 150, maxAttempts: 2 },
  method: [
    {
      at: "1s",
      for: "3s",
      fault: { kind: "network.latency", link: "forwarder->buffer", latency: 400 },
    },
  ],
};

describe("verdict.indeterminateShareMax", () => {
  it("defaults to 1% and takes the experiment's share", () => {
    expect(smallExperiment("slow", slowerThanTimeout).verdict.indeterminateShareMax).toBe(0.01);
    const stated = smallExperiment("slow", {
      ...slowerThanTimeout,
      verdict: { indeterminateShareMax: 0.25 },
    });
    expect(stated.verdict.indeterminateShareMax).toBe(0.25);
  });

  it.each([1.5, -0.1, "1%"])("refuses %j, naming the field and the value", (value) => {
    const input = { name: "x", description: "x", duration: "5s" };
    const parse = () =>
      parseExperiment({ ...input, verdict: { indeterminateShareMax: value } }, "x");
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
      const result = await spillwayRunSim(
        smallExperiment("slower-than-timeout", slowerThanTimeout),
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
