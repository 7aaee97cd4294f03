// `spillway replay <files or folders>…` over a corpus: one line per schedule and a total, exit 0
// only when every schedule came out as its file says, 1 when one did not (its FAIL line names
// it), 2 for a folder without schedules or a file that is not one (named), 130 on Ctrl-C with
// the lines and total so far. On the simulator.

import { execa } from "execa";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect, it } from "vitest";
import { useTempDir } from "../support/temp-dir.ts";

const CLI = path.resolve("harness/cli/main.ts");
const FIXED = path.resolve("experiments/regressions/fixed-late-config-answer.json");
const directory = useTempDir("spillway-replay-corpus-");

function spillway(...args: string[]) {
  return execa(process.execPath, [CLI, ...args], { reject: false, timeout: 60_000 });
}

/** A folder holding the named schedules, each the fixed bug's schedule with `changes` applied. */
function corpus(name: string, schedules: Record<string, object>): string {
  const folder = path.join(directory, name);
  mkdirSync(folder);
  const fixed = JSON.parse(readFileSync(FIXED, "utf8")) as object;
  for (const [file, changes] of Object.entries(schedules))
    writeFileSync(path.join(folder, file), JSON.stringify({ ...fixed, ...changes }));
  return folder;
}

it("a folder whose schedules all come out as expected: a line each, the total, exit 0", async () => {
  const folder = corpus("as-expected", { "holds.json": {} });
  const result = await spillway("replay", folder, FIXED);
  expect(result.exitCode, result.stderr).toBe(0);
  const lines = result.stdout.trim().split("\n");
  expect(lines).toHaveLength(3);
  expect(lines[0]).toMatch(
    /^ok {3}\S+\/as-expected\/holds\.json +held: every invariant held \(no-silent-loss violated when found\)/,
  );
  expect(lines[1]).toMatch(/^ok {3}\S+fixed-late-config-answer\.json +held: /);
  expect(lines[2]).toBe("2 schedules: 2 as expected, 0 not");
});

it("a schedule whose expectation is flipped fails by name and the replay exits 1", async () => {
  const folder = corpus("flipped", {
    "a-holds.json": {},
    "b-flipped.json": { expect: "reproduce" },
  });
  const result = await spillway("replay", folder, "--json");
  expect(result.exitCode, result.stderr).toBe(1);
  const objects = result.stdout
    .trim()
    .split("\n")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(objects.map(({ file, outcome }) => [path.basename(String(file)), outcome])).toEqual([
    ["a-holds.json", "as-expected"],
    ["b-flipped.json", "not-as-expected"],
  ]);
  expect(objects[1]).toMatchObject({
    expect: "reproduce",
    invariant: "no-silent-loss",
    summary: "expected no-silent-loss violated, saw it held",
  });
  // Named alone and again through its folder, it runs once, first.
  const text = await spillway("replay", path.join(folder, "b-flipped.json"), folder);
  expect(text.exitCode).toBe(1);
  expect(text.stdout.split("\n")[0]).toMatch(
    /^FAIL \S+\/flipped\/b-flipped\.json +expected no-silent-loss violated, saw it held/m,
  );
  expect(text.stdout).toContain("2 schedules: 1 as expected, 1 not");
});

it("a folder without schedules, or a JSON file in it that is not one, exits 2 naming it", async () => {
  const empty = path.join(directory, "empty");
  mkdirSync(empty);
  writeFileSync(path.join(empty, "README.md"), "no schedules here");
  const none = await spillway("replay", empty);
  expect(none.exitCode).toBe(2);
  expect(none.stderr).toContain(`${empty} is not a valid schedule folder`);
  expect(none.stderr).toContain("holds no schedule files (*.json)");

  const mixed = corpus("mixed", { "good.json": {} });
  const stranger = path.join(mixed, "results.json");
  writeFileSync(stranger, JSON.stringify({ runs: 3 }));
  const bad = await spillway("replay", mixed);
  expect(bad.exitCode).toBe(2);
  expect(bad.stderr).toContain(`${stranger} is not a valid schedule`);
  // Nothing ran: a corpus is read whole before any schedule runs.
  expect(bad.stdout).toBe("");
});

it("Ctrl-C stops the corpus: no further schedule runs, the total says so, exit 130", async () => {
  const folder = corpus(
    "interrupted",
    Object.fromEntries(Array.from({ length: 12 }, (_, index) => [`s${index + 10}.json`, {}])),
  );
  const child = spillway("replay", folder);
  let firstLine = false;
  child.stdout!.on("data", (chunk: Buffer) => {
    if (!firstLine && chunk.toString().startsWith("ok")) {
      firstLine = true;
      child.kill("SIGINT");
    }
  });
  const result = await child;
  expect(firstLine).toBe(true);
  expect(result.exitCode, result.stderr).toBe(130);
  const total = result.stdout.trim().split("\n").at(-1)!;
  expect(total).toMatch(/^12 schedules: \d+ as expected, 0 not, \d+ interrupted or not run$/);
});

it("--dry-run checks each schedule against its base and lists what it expects, running none", async () => {
  const folder = corpus("dry-run", {
    "holds.json": {},
    "reproduces.json": { expect: "reproduce" },
  });
  const result = await spillway("replay", folder, "--dry-run");
  expect(result.exitCode, result.stderr).toBe(0);
  expect(result.stdout).toMatch(
    /holds\.json: explore, profile hardened, seed 9; expect every invariant held\n/,
  );
  expect(result.stdout).toMatch(/reproduces\.json: .*; expect no-silent-loss violated\n/);
  expect(result.stdout).toContain("process.pause service=forwarder");
  expect(result.stdout.trim().split("\n").at(-1)).toBe(
    "2 schedules to replay on sim; nothing started (dry run)",
  );
  // A fault on a service the base experiment does not have is bad input, named.
  const broken = corpus("dry-run-broken", {
    "bad.json": {
      steps: [{ at: 0, for: 1_000, fault: { kind: "process.pause", service: "forwardr" } }],
    },
  });
  const bad = await spillway("replay", broken, "--dry-run");
  expect(bad.exitCode).toBe(2);
  expect(bad.stderr).toContain('"forwardr"');
});
