// `spillway run --dry-run` (docs/architecture.md §6, "Game days"): the plan of a run — services,
// links, each fault with its time, target and heal, rollbacks, invariants and expectations —
// printed from the validated experiment and target, starting nothing; bad input exits 2 with
// the message a real run gives.

import { execa } from "execa";
import { mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { runCommand } from "../../harness/cli/run-command.ts";
import type { Plan, PlanSection } from "../../harness/experiment/plan.ts";
import { realClock } from "../../pipeline/host/real-seam.ts";
import { descendants } from "../experiments/support.ts";
import { useTempDir } from "../support/temp-dir.ts";

const CLI = path.resolve("harness/cli/main.ts");
const directory = useTempDir("spillway-dry-run-");
afterEach(() => vi.restoreAllMocks());

/**
 * Runs `spillway run … --dry-run` with a temp root of its own, watching for any process it
 * starts; returns what it printed, the processes seen and what appeared in its temp root.
 */
async function dryRun(...args: string[]) {
  const tmp = mkdtempSync(path.join(directory, "tmp-"));
  const run = execa(process.execPath, [CLI, "run", ...args, "--dry-run"], {
    reject: false,
    timeout: 60_000,
    env: { TMPDIR: tmp },
  });
  const seen = new Set<number>();
  let done = false;
  void run.finally(() => (done = true));
  while (!done) {
    for (const pid of descendants(run.pid!)) seen.add(pid);
    await realClock.sleep(10);
  }
  const result = await run;
  return { ...result, started: [...seen], tmpEntries: readdirSync(tmp) };
}

/** The plan `spillway run <args> --dry-run --json` prints, run in this process. */
async function jsonPlan(...args: string[]): Promise<Plan> {
  let printed = "";
  vi.spyOn(process.stdout, "write").mockImplementation((text) => {
    printed += String(text);
    return true;
  });
  await runCommand().parseAsync([...args, "--dry-run", "--json"], { from: "user" });
  vi.restoreAllMocks();
  return JSON.parse(printed) as Plan;
}

function section<Kind extends PlanSection["kind"]>(plan: Plan, kind: Kind) {
  return plan.sections.find((candidate) => candidate.kind === kind) as Extract<
    PlanSection,
    { kind: Kind }
  >;
}

describe("spillway run --dry-run", () => {
  it("prints nov14-2024's faults with time, target and heal, its invariants and expectations, starting nothing on processes", async () => {
    const result = await dryRun("nov14-2024", "--runtime", "process");
    expect(result.stderr).toBe("");
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.split("\n").map((line) => line.trim());
    const healAll = "in force until the end of the method, healed by healAll";
    for (const [at, fromStart, fault, target] of [
      ["3.0", "6.0", "config.add-job dataset=dns_logs", "the config service"],
      ["8.0", "11.0", "config.revert", "the config service"],
      ["25.0", "28.0", "process.restart service=forwarder", "forwarder"],
      ["27.0", "30.0", "process.restart service=buffer", "buffer"],
    ]) {
      const index = lines.findIndex((line) =>
        line.includes(`+${at} s (${fromStart} s from the start)  ${fault}`),
      );
      expect(index, fault).toBeGreaterThan(0);
      expect(lines[index + 1]).toBe(`target: ${target}; ${healAll}`);
    }
    expect(lines).toContain("no-silent-loss: legacy-2024 violated");
    expect(lines).toContain("tenant-isolation: legacy-2024 held");
    expect(lines).toContain("buffer->config");
    expect(result.stdout).toMatch(/buffer: process, node pipeline\/host\/main.ts as the buffer/);
    expect(result.started).toEqual([]);
    expect(result.tmpEntries).toEqual([]);
  });

  it("lists a target's services and links without starting rsyslog", async () => {
    const result = await dryRun("targets/rsyslog-relay/relay-kill.yaml");
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.split("\n").map((line) => line.trim());
    expect(lines.find((line) => line.startsWith("relay-a: "))).toMatch(
      /^relay-a: process, rsyslogd -n -f \{\{spillway\.file\.rsyslog\.conf\}\}.*; ready: TCP connect to port syslog; memory cap 256 MB$/,
    );
    expect(lines.some((line) => line.startsWith("relay-b: process, rsyslogd"))).toBe(true);
    expect(result.stdout).toContain("links, each through the embedded fault proxy:");
    for (const link of ["workload->relay-a", "relay-a->relay-b", "relay-b->recorder"])
      expect(lines).toContain(link);
    expect(lines).toContain("recorders: recorder (syslog)");
    expect(lines).toContain("target: relay-a; heals at +4.0 s (after 1.0 s)");
    expect(lines).toContain("no-silent-loss: rsyslog-relay violated");
    expect(result.started).toEqual([]);
    expect(result.tmpEntries).toEqual([]);
  });

  it("exits 2 for an invalid experiment, naming the field, as a real run does", async () => {
    const file = path.join(directory, "bad-service.json");
    writeFileSync(
      file,
      JSON.stringify({
        name: "bad-service",
        description: "a fault on a service that is not there",
        duration: "5s",
        method: [{ at: "1s", fault: { kind: "process.kill", service: "buffr" } }],
      }),
    );
    const dry = await dryRun(file);
    expect(dry.exitCode).toBe(2);
    expect(dry.stderr).toContain('method[0].fault.service: "buffr": expected one of');
    const real = await execa(process.execPath, [CLI, "run", file], {
      reject: false,
      timeout: 60_000,
    });
    expect(real.exitCode).toBe(2);
    expect(dry.stderr).toBe(real.stderr);
  });

  it("plans --compare on the simulator at its scale, with each profile's flaws and expectations, as JSON", async () => {
    const plan = await jsonPlan(
      "nov14-2024",
      "--compare",
      "legacy-2024,hardened",
      "--runtime",
      "sim",
    );
    const runs = section(plan, "runs");
    expect(runs.runs.map((run) => run.name)).toEqual(["legacy-2024", "hardened"]);
    expect(runs.runs[0]!.flaws).toContain("forwarder.failOpenStuck");
    expect(runs.runs[1]!.flaws).toEqual([]);
    const { services } = section(plan, "services");
    expect(services.length).toBeGreaterThan(0);
    expect(services.every((service) => service.kind === "simulated")).toBe(true);
    // The simulator's scale: nov14-2024's simulator limits, not its process ones.
    expect(section(plan, "bounds").bounds[0]!.value).toMatch(/^192 KiB in all, 96 KiB per tenant/);
    const invariants = section(plan, "invariants");
    expect(invariants.runs.map((run) => run.expect["no-silent-loss"] ?? "held")).toEqual([
      "violated",
      "held",
    ]);
    expect(section(plan, "method").steps.map((step) => step.fromStartMs)).toEqual([
      6_000, 11_000, 28_000, 30_000,
    ]);
  });

  it("plans --matrix as one run per subset of flaws, whose expectations do not apply", async () => {
    const plan = await jsonPlan("nov14-2024", "--matrix", "all;none");
    const runs = section(plan, "runs").runs;
    expect(runs.map((run) => run.name)).toEqual(["all flaws", "none (hardened)"]);
    expect(runs[0]!.flaws).toContain("buffer.limitsUnconfigured");
    expect(runs[1]!.flaws).toEqual([]);
    expect(runs.every((run) => !run.expectationsApply)).toBe(true);
  });

  it("lists the experiment's abort conditions, and none when it has none", async () => {
    const file = path.join(directory, "braked.json");
    writeFileSync(
      file,
      JSON.stringify({
        name: "braked",
        description: "a sink outage with a brake",
        duration: "10s",
        method: [{ at: "1s", for: "2s", fault: { kind: "sink.error", sink: "sink-0" } }],
        abort: [
          { buffer: { aboveBoundShare: 1.5 } },
          { unhealthy: { service: "buffer", longerThan: "10s" } },
        ],
      }),
    );
    expect(section(await jsonPlan(file), "abort").conditions).toEqual([
      "buffer above 1.5 × its bound",
      "buffer unhealthy longer than 10s",
    ]);
    expect(section(await jsonPlan("nov14-2024"), "abort").conditions).toEqual([]);
  });
});
