// Target files: the shipped ones load; bad ones are refused with the path and the value; the
// templates render with every placeholder, and an unknown `spillway.` placeholder is an error
// while other {{…}} are left for the software that reads the file.

import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { loadExperimentAndTarget, loadTarget, parseTarget } from "../../harness/target/load.ts";
import { renderTemplate } from "../../harness/target/template.ts";
import { routeJobs } from "../../harness/target/run.ts";
import { faultWindows } from "../../harness/experiment/fault-windows.ts";
import { metricSum } from "../../harness/target/verdict.ts";
import { useTempDir } from "../support/temp-dir.ts";

const scratch = useTempDir("spillway-target-test-");

function minimal(overrides: Record<string, unknown> = {}) {
  return {
    name: "one-relay",
    description: "one relay",
    services: [
      {
        name: "relay",
        process: { command: ["relayd", "--port", "{{spillway.port.in}}"] },
        ports: ["in"],
        ready: { tcp: "in" },
      },
    ],
    links: [
      { from: "workload", to: "relay:in" },
      { from: "relay", to: "out" },
    ],
    ingress: { link: "workload->relay", kind: "syslog" },
    egresses: [{ name: "out", kind: "syslog" }],
    routes: [{ egress: "out" }],
    ...overrides,
  };
}

function problemsOf(input: unknown): string {
  try {
    parseTarget(input, path.join(scratch, "target.yaml"));
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error("expected the target to be refused");
}

describe("target files", () => {
  it("loads the shipped targets and their experiments", async () => {
    for (const file of ["targets/rsyslog-relay/target.yaml", "targets/redis-streams/target.yaml"]) {
      const target = await loadTarget(file);
      expect(target.spec.links.every((link) => link.name.includes("->"))).toBe(true);
    }
    const { experiment, target } = await loadExperimentAndTarget(
      "targets/redis-streams/buffer-kill.yaml",
    );
    expect(target?.spec.name).toBe("redis-streams");
    expect(Object.keys(experiment.expect ?? {})).toEqual(["volatile", "durable"]);
  });

  it("names links <from>-><to> and defaults the ingress's framing", () => {
    const target = parseTarget(minimal(), path.join(scratch, "target.yaml"));
    expect(target.spec.links.map((link) => link.name)).toEqual(["workload->relay", "relay->out"]);
    expect(target.ingress.spec.kind).toBe("syslog");
  });

  it("refuses bad ends, ports, routes and placeholders, naming each path and value", () => {
    const message = problemsOf(
      minimal({
        services: [
          {
            name: "relay",
            process: { command: ["relayd", "{{spillway.port.nope}}"] },
            ports: ["in"],
            ready: { tcp: "out" },
          },
        ],
        links: [
          { from: "workload", to: "relay:in" },
          { from: "relay", to: "nowhere" },
        ],
        routes: [{ egress: "elsewhere" }],
      }),
    );
    expect(message).toContain('links[1].to: "nowhere"');
    expect(message).toContain('services[0].ready: "out"');
    expect(message).toContain('"{{spillway.port.nope}}"');
    expect(message).toContain('routes[0].egress: "elsewhere"');
  });

  it("refuses a service that is none of process, container or external, and a reserved name", () => {
    const message = problemsOf(
      minimal({ services: [{ name: "workload", ports: ["in"], ready: { tcp: "in" } }] }),
    );
    expect(message).toContain("expected exactly one of process, container or external");
  });

  it("refuses an experiment whose faults name what the target does not have", async () => {
    const file = path.join(scratch, "bad-experiment.yaml");
    writeFileSync(
      file,
      [
        "name: bad",
        "description: names a service the target lacks",
        `target: ${path.resolve("targets/rsyslog-relay/target.yaml")}`,
        "duration: 5s",
        "method:",
        "  - { at: 1s, fault: { kind: process.kill, service: buffer } }",
        "expect:",
        "  hardened: { no-silent-loss: violated }",
      ].join("\n"),
    );
    await expect(loadExperimentAndTarget(file)).rejects.toThrow(
      /method\[0\]\.fault\.service: "buffer"[\s\S]*expect\.hardened/,
    );
  });
});

describe("templates", () => {
  const values = new Map([
    ["port.syslog", "41234"],
    ["link.a->b.address", "127.0.0.1:40000"],
  ]);

  it("replaces spillway placeholders and leaves other braces alone", () => {
    const text =
      "port {{spillway.port.syslog}}\nto {{ spillway.link.a->b.address }}\nkeep {{ .message }}";
    expect(renderTemplate(text, values, "relay.conf")).toBe(
      "port 41234\nto 127.0.0.1:40000\nkeep {{ .message }}",
    );
  });

  it("refuses an unknown spillway placeholder with the file, the line and the known keys", () => {
    expect(() => renderTemplate("a\nport {{spillway.port.sylog}}", values, "relay.conf")).toThrow(
      /relay\.conf:2: \{\{spillway\.port\.sylog\}\} is not a Spillway placeholder; expected one of: spillway\.port\.syslog/,
    );
  });
});

describe("verdict pieces", () => {
  it("routes make one job per matched (tenant, dataset) at the route's egress", async () => {
    const { experiment, target } = await loadExperimentAndTarget(
      "targets/rsyslog-relay/link-reset.yaml",
    );
    const jobs = routeJobs(target!, experiment);
    expect(jobs).toHaveLength(4);
    expect(new Set(jobs.map((job) => job.destination))).toEqual(new Set(["recorder/all"]));
  });

  it("pairs each fault with its heal for the fault windows", () => {
    const step = (phase: string, name: string, startedMs: number, endedMs: number) => ({
      phase,
      name,
      startedMs,
      endedMs,
      ok: true,
    });
    const windows = faultWindows(
      [
        step("method", "network.down", 1000, 1010),
        step("method", "process.kill", 3000, 3050),
        step("heal", "process.kill", 4000, 4500),
        step("heal", "network.down", 5000, 5020),
      ],
      9000,
    );
    expect(windows).toEqual([
      { name: "network.down", from: 1000, to: 5020, healed: true },
      { name: "process.kill", from: 3000, to: 4500, healed: true },
    ]);
  });

  it("sums a Prometheus counter over its label sets", () => {
    const text = [
      "# HELP dropped_total dropped",
      'dropped_total{reason="full"} 3',
      'dropped_total{reason="bad"} 4',
      "dropped_total_created 1700000000",
    ].join("\n");
    expect(metricSum(text, "dropped_total")).toBe(7);
    expect(metricSum(text, "missing_total")).toBeNull();
  });
});
