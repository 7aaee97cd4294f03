// The harness is killed mid-run, each way; no component may survive it (docs/architecture.md §3).
// The harness is test/fixtures/harness.ts; it runs the real pipeline (config, sink-0, buffer) for
// the three ways a harness dies, and the quicker fixture component for the variants.

import { execa } from "execa";
import { existsSync } from "node:fs";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { describe, expect, it, type TestContext } from "vitest";
import { isAlive } from "../../harness/runtime/process/proc.ts";
import { cleanRunDirs } from "../../harness/runtime/run-dir.ts";
import { survivors } from "./support.ts";
import { useTempDir } from "../support/temp-dir.ts";

const HARNESS = fileURLToPath(new URL("../fixtures/harness.ts", import.meta.url));
const tempRoot = useTempDir("spillway-harness-test-");

interface HarnessReport {
  runDir: string;
  services: Record<string, number>;
  children: number[];
}

function spawnHarness(args: readonly string[]) {
  return execa(process.execPath, [HARNESS, "--temp-root", tempRoot, ...args], {
    reject: false,
    cleanup: false,
    forceKillAfterDelay: false,
    stdin: "ignore",
    buffer: { stdout: false, stderr: true },
  });
}
type Harness = ReturnType<typeof spawnHarness>;

/**
 * Starts the harness and waits for its report line (the topology is then up). Whatever a
 * failing test leaves, the harness and anything it started, is SIGKILLed when it finishes.
 */
async function startHarness(
  context: TestContext,
  ...args: string[]
): Promise<{ subprocess: Harness; report: HarnessReport }> {
  const subprocess = spawnHarness(args);
  const started: number[] = [];
  context.onTestFinished(() => {
    subprocess.kill("SIGKILL");
    for (const pid of started.filter(isAlive)) process.kill(pid, "SIGKILL");
  });
  const lines = createInterface({ input: subprocess.stdout });
  const firstLine = new Promise<string | undefined>((resolve) => {
    lines.once("line", resolve);
    lines.once("close", () => resolve(undefined));
  });
  const line = await firstLine;
  if (line === undefined) {
    const result = await subprocess;
    throw new Error(
      `the harness exited without a report (code ${result.exitCode}):\n${result.stderr}`,
    );
  }
  const report = JSON.parse(line) as HarnessReport;
  started.push(...report.children);
  context.expect(report.children).toEqual(expect.arrayContaining(Object.values(report.services)));
  // The watchdog is a child too.
  context.expect(report.children.length).toBeGreaterThan(Object.keys(report.services).length);
  return { subprocess, report };
}

/** How long components may take to go once the harness is gone (the poll ends earlier). */
const GONE_WITHIN_MS = 10_000;

describe.concurrent("nothing is left behind when the harness", () => {
  it.for([
    ["SIGINT", 130],
    ["SIGTERM", 143],
  ] as const)(
    "gets %s: it stops every component, removes its run dir and exits %i",
    async ([signal, exitCode], context) => {
      const { subprocess, report } = await startHarness(context);
      subprocess.kill(signal);
      context.expect((await subprocess).exitCode).toBe(exitCode);
      context.expect(await survivors(report.children, GONE_WITHIN_MS)).toEqual([]);
      context.expect(existsSync(report.runDir)).toBe(false);
    },
  );

  it("gets SIGINT while a component is paused: the paused one is stopped too", async (context) => {
    const { subprocess, report } = await startHarness(context, "--fixture", "--pause", "buffer");
    subprocess.kill("SIGINT");
    context.expect((await subprocess).exitCode).toBe(130);
    context.expect(await survivors(report.children, GONE_WITHIN_MS)).toEqual([]);
  });

  it("gets SIGKILL: every component notices its parent is gone and exits; clean removes its run dir", async (context) => {
    const { subprocess, report } = await startHarness(context);
    subprocess.kill("SIGKILL");
    context.expect((await subprocess).signal).toBe("SIGKILL");
    context.expect(await survivors(report.children, GONE_WITHIN_MS)).toEqual([]);
    // The harness could not remove its run dir; `spillway clean` does (its maker is gone).
    context.expect(existsSync(report.runDir)).toBe(true);
    const cleaned = await cleanRunDirs({ root: tempRoot });
    context.expect(cleaned.removed).toContain(report.runDir);
    context.expect(existsSync(report.runDir)).toBe(false);
  });

  it("gets SIGKILL while a component is paused: the watchdog ends the paused one", async (context) => {
    const { subprocess, report } = await startHarness(context, "--fixture", "--pause", "buffer");
    subprocess.kill("SIGKILL");
    context.expect((await subprocess).signal).toBe("SIGKILL");
    context.expect(await survivors(report.children, GONE_WITHIN_MS)).toEqual([]);
  });

  it("fails with an uncaught exception: every component is killed and the run dir removed", async (context) => {
    const { subprocess, report } = await startHarness(context, "--fixture", "--throw");
    const result = await subprocess;
    context.expect(result.exitCode).toBe(1);
    context.expect(result.stderr).toContain("the harness fails on purpose");
    context.expect(await survivors(report.children, GONE_WITHIN_MS)).toEqual([]);
    context.expect(existsSync(report.runDir)).toBe(false);
  });
});
