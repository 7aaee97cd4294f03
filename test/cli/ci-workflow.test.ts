// The GitHub Actions workflow of docs/ci.md (examples/github-actions/chaos.yml) runs only valid
// spillway commands. Each `run:` script that calls spillway is run by bash as the runner runs it
// (`bash -eo pipefail`), once per matrix combination, with the workflow's env and
// `${{ matrix.* }}`/`${{ env.* }}` expanded, in one workspace beside this checkout's experiments
// where the jobs' `out/` folders meet as their artifacts would. `npx` is a stand-in that runs this
// checkout's CLI with `--dry-run` appended (which checks everything and starts nothing) and logs
// each call with its exit code. The explore shards also run for real on a tiny budget, so that
// the merge job's dry run reads real shard results. Any other `${{ }}` expression, or an npx of
// something else, fails the test: the stand-in could not honour it.

import { execa } from "execa";
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { useTempDir } from "../support/temp-dir.ts";

const WORKFLOW = path.resolve("examples/github-actions/chaos.yml");
const CLI = path.resolve("harness/cli/main.ts");
const directory = useTempDir("spillway-ci-workflow-");

interface Step {
  name?: string;
  run?: string;
  uses?: string;
  with?: Record<string, unknown>;
}

interface Job {
  needs?: string | string[];
  strategy?: { matrix?: Record<string, unknown[]> };
  env?: Record<string, string>;
  steps: Step[];
}

interface Workflow {
  env?: Record<string, string>;
  jobs: Record<string, Job>;
}

const workflow = parse(readFileSync(WORKFLOW, "utf8")) as Workflow;

/** Every combination of a job's matrix (one empty combination without a matrix). */
function combinations(job: Job): Array<Record<string, string>> {
  let all: Array<Record<string, string>> = [{}];
  for (const [key, values] of Object.entries(job.strategy?.matrix ?? {})) {
    all = all.flatMap((combination) =>
      values.map((value) => ({ ...combination, [key]: String(value) })),
    );
  }
  return all;
}

/** `${{ matrix.x }}` and `${{ env.x }}` expanded; anything else is refused. */
function expand(script: string, matrix: Record<string, string>, env: Record<string, string>) {
  return script.replace(/\$\{\{\s*([^}]*?)\s*\}\}/g, (_, expression: string) => {
    const [scope, key] = expression.split(".");
    const value = scope === "matrix" ? matrix[key!] : scope === "env" ? env[key!] : undefined;
    if (value === undefined) throw new Error(`the test cannot expand \${{ ${expression} }}`);
    return value;
  });
}

/** The stand-in for npx: this checkout's CLI with --dry-run, each call logged with its code. */
const NPX = `npx() {
  if [ "$1" != spillway ]; then echo "npx $1: not spillway" >&2; return 97; fi
  shift
  if [ -z "$SPILLWAY_REAL" ]; then set -- "$@" --dry-run; fi
  local code=0
  node "$SPILLWAY_CLI" "$@" || code=$?
  printf '%s\\t%s\\n' "$code" "$*" >> "$SPILLWAY_CALLS"
  return "$code"
}
`;

interface Call {
  code: number;
  args: string;
}

/** Runs one script of a job as the runner would, with the stand-in; returns bash's result. */
async function runScript(script: string, env: Record<string, string>, cwd: string) {
  mkdirSync(path.join(cwd, "out"), { recursive: true });
  const calls = path.join(cwd, "calls.tsv");
  const result = await execa(
    "bash",
    ["--noprofile", "--norc", "-eo", "pipefail", "-c", NPX + script],
    {
      cwd,
      reject: false,
      timeout: 120_000,
      env: { ...env, SPILLWAY_CLI: CLI, SPILLWAY_CALLS: calls, PATH: process.env.PATH },
      extendEnv: false,
    },
  );
  let logged: Call[] = [];
  try {
    logged = readFileSync(calls, "utf8")
      .trim()
      .split("\n")
      .filter((line) => line.length > 0)
      .map((line) => {
        const [code, args] = line.split("\t");
        return { code: Number(code), args: args ?? "" };
      });
  } catch {
    // No call logged: the script ran no spillway command.
  }
  rmSync(calls, { force: true });
  return { ...result, calls: logged };
}

describe("examples/github-actions/chaos.yml", () => {
  it("has the incident replay, the corpus, an explore matrix over every shard, and their merge", () => {
    expect(Object.keys(workflow.jobs)).toEqual([
      "incident-replay",
      "regressions",
      "explore",
      "explore-merge",
    ]);
    const shards = Number(workflow.env?.EXPLORE_SHARDS);
    expect(workflow.jobs.explore!.strategy?.matrix?.shard).toEqual(
      Array.from({ length: shards }, (_, index) => index + 1),
    );
    expect(workflow.jobs["explore-merge"]!.needs).toBe("explore");
    // Every job uploads what it wrote, also when a step failed.
    for (const [name, job] of Object.entries(workflow.jobs)) {
      const upload = job.steps.find((step) => step.uses?.startsWith("actions/upload-artifact"));
      expect(upload, name).toMatchObject({ if: "always()", with: { path: "out/" } });
    }
  });

  const scripts = Object.entries(workflow.jobs).flatMap(([name, job]) =>
    combinations(job).flatMap((matrix) =>
      job.steps
        .filter((step) => step.run?.includes("spillway") === true)
        .map((step) => ({ name, matrix, step: step.name ?? step.run!, run: step.run!, job })),
    ),
  );
  /** The workspace every job shares, as its artifacts would: `out/` and the experiments. */
  const workspace = path.join(directory, "workspace");
  beforeAll(() => {
    mkdirSync(workspace);
    symlinkSync(path.resolve("experiments"), path.join(workspace, "experiments"));
    symlinkSync(path.resolve("targets"), path.join(workspace, "targets"));
  });
  const envOf = (job: Job) => ({ ...workflow.env, ...job.env });

  it("calls spillway in every job", () => {
    expect(new Set(scripts.map((script) => script.name))).toEqual(
      new Set(Object.keys(workflow.jobs)),
    );
  });

  // In the workflow's job order: explore-merge comes after the explore shards.
  it.each(
    scripts.map((script) => [
      `${script.name} ${JSON.stringify(script.matrix)}: ${script.step.split("\n")[0]}`,
      script,
    ]),
  )(
    "%s: every spillway command is valid (--dry-run)",
    async (_, { name, matrix, run, job }) => {
      const env = envOf(job);
      const result = await runScript(expand(run, matrix, env), env, workspace);
      expect(result.calls.length, result.stderr).toBeGreaterThan(0);
      for (const call of result.calls) expect(call, result.stderr).toMatchObject({ code: 0 });
      expect(result.exitCode, result.stderr).toBe(0);
      if (name !== "explore") return;
      // For real on a tiny budget, so that the merge reads this shard's real result.
      const real = await runScript(
        expand(run, matrix, { ...env, EXPLORE_RUNS: "8" }),
        { ...env, EXPLORE_RUNS: "8", SPILLWAY_REAL: "1" },
        workspace,
      );
      expect(real.exitCode, real.stderr).toBe(0);
      expect(real.calls.map((call) => call.code)).toEqual([0]);
    },
    180_000,
  );

  it("the shards' real results merge into a whole search of the budget", async () => {
    const merge = workflow.jobs["explore-merge"]!;
    const script = merge.steps.find((step) => step.run?.includes("spillway"))!.run!;
    const env = { ...envOf(merge), EXPLORE_RUNS: "8", SPILLWAY_REAL: "1" };
    expect(
      readdirSync(path.join(workspace, "out")).filter((file) => file.startsWith("explore-shard-")),
    ).toHaveLength(Number(workflow.env?.EXPLORE_SHARDS));
    const result = await runScript(expand(script, {}, env), env, workspace);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain("nothing found: 8 schedules ran on the simulator");
  }, 120_000);

  it("writes the journal, JUnit, the report and the corpus's results into what it uploads", () => {
    const text = readFileSync(WORKFLOW, "utf8");
    for (const option of [
      "--journal out/journal.json",
      "--junit out/junit.xml",
      "--report out/report.html",
      "> out/regressions.json",
    ])
      expect(text).toContain(option);
  });
});
