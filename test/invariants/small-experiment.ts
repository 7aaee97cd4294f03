// A small experiment for end-to-end invariant tests on the simulator (well under a second of
// real time each): one sink, eight tenants of which t000 and t001 have jobs, 400 events/s for
// 7 s after a 1 s warmup. A test gives the method and changes what it needs, and runs it in
// process or through `spillway run --runtime sim`.

import { execa } from "execa";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  parseExperiment,
  type Experiment,
  type ExperimentInput,
} from "../../harness/experiment/definition.ts";
import type { Journal } from "../../harness/experiment/journal.ts";
import { runOnSimulator } from "../../harness/experiment/sim-run.ts";
import type { InvariantName, InvariantStatus } from "../../harness/invariants/types.ts";
import type { Flaw } from "../../pipeline/core/flaws.ts";

type Changes = Partial<Omit<ExperimentInput, "workload" | "topology">> & {
  workload?: Record<string, unknown>;
  topology?: Record<string, unknown>;
};

export function smallExperiment(name: string, changes: Changes): Experiment {
  return parseExperiment(
    {
      name,
      description: `a small experiment: ${name}`,
      duration: "7s",
      warmup: "1s",
      steadyState: { deliveringWithin: "500ms" },
      drain: { timeout: "10s" },
      ...changes,
      topology: { sinks: 1, limits: { configPollMs: 100 }, ...changes.topology },
      workload: {
        tenants: 8,
        jobTenants: ["t000", "t001"],
        eventsPerSecond: 400,
        batchSize: 20,
        ...changes.workload,
      },
    },
    name,
  );
}

/** Runs on the simulator with seed 1: on a profile, or on hardened with only `flaws` on. */
export async function runSmall(experiment: Experiment, flaws?: Flaw[]): Promise<Journal> {
  const { journal } = await runOnSimulator(experiment, {
    profile: "hardened",
    ...(flaws === undefined ? {} : { flaws }),
    seed: 1,
  });
  return journal;
}

/** The invariant's status, with its summary to read when a test fails. */
export function verdictOf(
  journal: Journal,
  name: InvariantName,
): { status: InvariantStatus | undefined; summary: string | undefined; evidence: unknown } {
  const result = journal.verdict?.invariants[name];
  return { status: result?.status, summary: result?.summary, evidence: result?.evidence };
}

/**
 * `spillway run <experiment> --runtime sim --journal <file> <args>`: what it printed, its exit
 * code and the journal it wrote. Its temporary directory is removed, also on failure.
 */
export async function spillwayRunSim(
  experiment: Experiment,
  ...args: string[]
): Promise<{ exitCode: number | undefined; stdout: string; stderr: string; journal: Journal }> {
  const directory = await mkdtemp(path.join(os.tmpdir(), "spillway-small-"));
  try {
    const file = path.join(directory, `${experiment.name}.json`);
    const journal = path.join(directory, "journal.json");
    await writeFile(file, JSON.stringify(experiment));
    const cli = path.resolve("harness/cli/main.ts");
    const { exitCode, stdout, stderr } = await execa(
      process.execPath,
      [cli, "run", file, "--runtime", "sim", "--journal", journal, ...args],
      { reject: false, timeout: 60_000 },
    );
    return {
      exitCode,
      stdout,
      stderr,
      journal: JSON.parse(await readFile(journal, "utf8")) as Journal,
    };
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}
