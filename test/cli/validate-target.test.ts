// `spillway validate` on targets (docs/targets.md): a target file is recognised and checked alone,
// an experiment that runs on a target is checked against it (its own `target:` or `--target`),
// every problem names its path and value and exits 2; `spillway list` lists the shipped targets
// with the experiments beside each.

import { execa } from "execa";
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { useTempDir } from "../support/temp-dir.ts";

const CLI = path.resolve("harness/cli/main.ts");
const RSYSLOG_TARGET = path.resolve("targets/rsyslog-relay/target.yaml");
const directory = useTempDir("spillway-cli-target-");

function spillway(...args: string[]) {
  return execa(process.execPath, [CLI, ...args], { reject: false, timeout: 60_000 });
}

function file(name: string, text: string): string {
  const written = path.join(directory, name);
  writeFileSync(written, text);
  return written;
}

const badTarget = `
name: tiny
description: a target with three mistakes
services:
  - name: relay
    process: { command: [cat] }
    ports: [syslog]
    ready: { tcp: sylog }
links:
  - { from: workload, to: "relay:syslog" }
  - { from: relay, to: nowhere }
ingress: { link: workload->relay, kind: syslog, framing: octets }
egresses: [{ name: out, kind: syslog }]
routes: [{ egress: out }]
`;

function experimentOn(target: string | undefined, link: string): string {
  return [
    "name: on-target",
    "description: a reset on one link of a target",
    ...(target === undefined ? [] : [`target: ${target}`]),
    "duration: 10s",
    `method: [{ at: 1s, for: 2s, fault: { kind: network.reset_peer, link: "${link}" } }]`,
    "",
  ].join("\n");
}

describe("spillway validate on targets", () => {
  it("recognises a target file by its keys and checks it alone", async () => {
    const result = await spillway("validate", "targets/redis-streams/target.yaml");
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe(
      "targets/redis-streams/target.yaml: valid target redis-streams (1 services, 2 links, ingress redis-streams, egresses recorder (redis-streams), variants volatile, durable, capped)",
    );
  });

  it("exits 2 for a bad target file, naming each problem's path and value", async () => {
    const result = await spillway("validate", file("tiny-target.yaml", badTarget));
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/tiny-target\.yaml is not a valid target/);
    expect(result.stderr).toContain(
      `services[0].ready: "sylog": expected one of its ports: syslog`,
    );
    expect(result.stderr).toMatch(/links\[1\]\.to: "nowhere": expected <service>:<port>/);
    expect(result.stderr).toMatch(/ingress\.framing: "octets": /);
  });

  it("checks an experiment against the target its target: field names", async () => {
    const good = await spillway("validate", "targets/rsyslog-relay/link-reset.yaml");
    expect(good.exitCode, good.stderr).toBe(0);
    expect(good.stdout).toBe(
      "targets/rsyslog-relay/link-reset.yaml: valid (1 fault steps, 7 s) on target rsyslog-relay (targets/rsyslog-relay/target.yaml)",
    );
    const bad = await spillway(
      "validate",
      file("bad-link.yaml", experimentOn(RSYSLOG_TARGET, "relay-a->relay-c")),
    );
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toMatch(/bad-link\.yaml is not a valid experiment/);
    expect(bad.stderr).toContain(
      `method[0].fault.link: "relay-a->relay-c": expected one of workload->relay-a, relay-a->relay-b, relay-b->recorder`,
    );
  });

  it("checks an experiment against --target, over its own target or none", async () => {
    const written = file("no-target.yaml", experimentOn(undefined, "relay-a->relay-b"));
    // Against the reference pipeline the link does not exist; against the target it does.
    expect((await spillway("validate", written)).exitCode).toBe(2);
    const onTarget = await spillway("validate", written, "--target", RSYSLOG_TARGET);
    expect(onTarget.exitCode, onTarget.stderr).toBe(0);
    expect(onTarget.stdout).toMatch(/valid \(1 fault steps, 10 s\) on target rsyslog-relay/);
    const targetTwice = await spillway("validate", RSYSLOG_TARGET, "--target", RSYSLOG_TARGET);
    expect(targetTwice.exitCode).toBe(2);
    expect(targetTwice.stderr).toMatch(/is itself a target file; --target goes with an experiment/);
  });
});

describe("spillway list", () => {
  it("lists the shipped targets with each experiment beside them and what it expects", async () => {
    const result = await spillway("list");
    expect(result.exitCode, result.stderr).toBe(0);
    const targets = result.stdout.slice(result.stdout.indexOf("targets ("));
    expect(targets).toMatch(/^rsyslog-relay +workload → rsyslog relay/m);
    expect(targets).toMatch(/^redis-streams +Redis Streams as a buffer/m);
    expect(targets).toContain(
      "  targets/redis-streams/buffer-kill.yaml: SIGKILL of Redis while entries wait in the stream",
    );
    expect(targets).toContain("    volatile: violates no-silent-loss; durable: all hold");
    expect(targets).toContain("  targets/rsyslog-relay/link-reset.yaml: ");
    expect(targets).not.toContain("target.yaml");
  });
});
