// Shared by the runtime tests: a process runtime over the fixture component whose every
// topology and temp dir is released after each test, pass or fail.

import { fileURLToPath } from "node:url";
import { afterAll, afterEach } from "vitest";
import {
  processRuntime,
  type ProcessRuntimeOptions,
  type ProcessTopology,
} from "../../harness/runtime/process/process-runtime.ts";
import { isAlive } from "../../harness/runtime/process/proc.ts";
import type { TopologySpec } from "../../harness/runtime/topology.ts";
import type { StartOptions } from "../../harness/runtime/runtime.ts";
import { useTempDir } from "../support/temp-dir.ts";

export const FIXTURE_COMPONENT = fileURLToPath(
  new URL("../fixtures/component.ts", import.meta.url),
);

/** Short waits: the fixture is quick, and a failing test should fail fast. */
export const FAST_LIMITS = { readyTimeoutMs: 10_000, stopGraceMs: 1_000, memoryPollMs: 20 };

type Start = (topology: TopologySpec, startOptions?: StartOptions) => Promise<ProcessTopology>;

/**
 * Registers hooks releasing everything started through the returned functions: a topology
 * from `start` is stopped after its test, one from `startShared` (for a beforeAll) after the
 * file, and the temp root is removed after the file.
 */
export function useFixtureRuntime(options: ProcessRuntimeOptions = {}): {
  tempRoot: string;
  start: Start;
  startShared: Start;
} {
  const tempRoot = useTempDir("spillway-test-");
  const runtime = processRuntime({
    entry: FIXTURE_COMPONENT,
    tempRoot,
    ...options,
    limits: { ...FAST_LIMITS, ...options.limits },
  });
  const perTest: ProcessTopology[] = [];
  const perFile: ProcessTopology[] = [];
  const stopAll = (started: ProcessTopology[]) =>
    Promise.all(started.splice(0).map((topology) => topology.stop()));
  afterEach(() => stopAll(perTest));
  afterAll(async () => {
    await stopAll(perFile);
  });
  const starter =
    (started: ProcessTopology[]): Start =>
    async (topology, startOptions) => {
      const running = await runtime.start(topology, startOptions);
      started.push(running);
      return running;
    };
  return { tempRoot, start: starter(perTest), startShared: starter(perFile) };
}

/** Polls `condition` every 50 ms until it holds; false if it still does not after `timeoutMs`. */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The pids among `pids` still alive after `timeoutMs` (empty when all have gone). */
export async function survivors(pids: readonly number[], timeoutMs: number): Promise<number[]> {
  await eventually(() => pids.every((pid) => !isAlive(pid)), timeoutMs);
  return pids.filter(isAlive);
}

export async function getJson(url: string): Promise<unknown> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  return response.json();
}
