// The regression corpus (experiments/regressions/, docs/simulator.md "The regression corpus")
// replayed on the simulator through the helper the package exports (`spillway/vitest`), one
// test per schedule file: each flaw's schedule reproduces its violation, each fixed bug's
// schedule holds on hardened. Then the schedule's expectation fields, and how a corpus is found.

import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { replayCorpus, replayScheduleFile } from "spillway/vitest";
import { judgeReplay, scheduleFiles } from "../../harness/explore/corpus.ts";
import { expectedOutcome, parseSchedule, type Schedule } from "../../harness/explore/schedule.ts";
import type { Journal } from "../../harness/experiment/journal.ts";
import { useTempDir } from "../support/temp-dir.ts";

describe("experiments/regressions on the simulator", () => {
  replayCorpus("experiments/regressions");
});

const directory = useTempDir("spillway-corpus-");

const base = {
  spillway: "schedule",
  version: 1,
  profile: "hardened",
  seed: 1,
  steps: [{ at: 0, fault: { kind: "config.revert" } }],
};

describe("a schedule's expectation", () => {
  it('"reproduce" without the invariant to violate is refused, naming the field', () => {
    expect(() => parseSchedule({ ...base, expect: "reproduce" }, "x.json")).toThrow(
      /x\.json is not a valid schedule:\n {2}- invariant: missing: expect "reproduce" needs the invariant/,
    );
  });

  it("an unknown expectation and a note of several lines are refused, naming the value", () => {
    expect(() => parseSchedule({ ...base, expect: "pass" }, "x.json")).toThrow(/expect: "pass"/);
    expect(() => parseSchedule({ ...base, note: "one\ntwo" }, "x.json")).toThrow(
      /note: "one\\ntwo": expected one line/,
    );
  });

  it("defaults to reproduce when the file names an invariant, else to hold", () => {
    const schedule = (extra: object): Schedule => parseSchedule({ ...base, ...extra }, "x.json");
    expect(expectedOutcome(schedule({}))).toBe("hold");
    expect(expectedOutcome(schedule({ invariant: "no-silent-loss" }))).toBe("reproduce");
    expect(expectedOutcome(schedule({ invariant: "no-silent-loss", expect: "hold" }))).toBe("hold");
  });

  it("hold needs every invariant held: a violation or an unknown is not a hold", () => {
    const fixed = parseSchedule(
      { ...base, invariant: "no-silent-loss", expect: "hold" },
      "fixed.json",
    );
    const journal = (statuses: Record<string, string>): Journal =>
      ({
        status: "completed",
        verdict: {
          invariants: Object.fromEntries(
            Object.entries(statuses).map(([name, status]) => [name, { name, status }]),
          ),
        },
      }) as unknown as Journal;
    expect(
      judgeReplay(fixed, journal({ "no-silent-loss": "held", recovery: "held" })),
    ).toMatchObject({
      outcome: "as-expected",
      summary: "held: every invariant held (no-silent-loss violated when found)",
    });
    expect(
      judgeReplay(fixed, journal({ "no-silent-loss": "held", recovery: "unknown" })),
    ).toMatchObject({
      outcome: "not-as-expected",
      summary: "expected to hold, saw recovery unknown",
    });
    const flaw = parseSchedule({ ...base, invariant: "bounded-buffer" }, "flaw.json");
    expect(judgeReplay(flaw, journal({ "bounded-buffer": "held" }))).toMatchObject({
      outcome: "not-as-expected",
      summary: "expected bounded-buffer violated, saw it held",
    });
  });
});

describe("finding a corpus's schedule files", () => {
  it("takes a folder's JSON files at any depth in name order, and files as given", () => {
    const corpus = path.join(directory, "found");
    mkdirSync(path.join(corpus, "deeper"), { recursive: true });
    for (const name of ["b.json", "a.json", "notes.md", "deeper/c.json"])
      writeFileSync(path.join(corpus, name), "{}");
    const alone = path.join(directory, "alone.json");
    writeFileSync(alone, "{}");
    expect(scheduleFiles([corpus, alone])).toEqual([
      path.join(corpus, "a.json"),
      path.join(corpus, "b.json"),
      path.join(corpus, "deeper", "c.json"),
      alone,
    ]);
  });

  it("a folder without schedule files, or a path that is not there, is bad input naming it", () => {
    const empty = path.join(directory, "empty");
    mkdirSync(empty);
    expect(() => scheduleFiles([empty])).toThrow(
      `${empty} is not a valid schedule folder:\n  - holds no schedule files (*.json)`,
    );
    const missing = path.join(directory, "missing");
    expect(() => scheduleFiles([missing])).toThrow(
      `${missing} is not a valid schedule file or folder:\n  - cannot be read: ENOENT`,
    );
  });

  it("a schedule whose fault names a service its base lacks fails naming the file, before it runs", async () => {
    const file = path.join(directory, "missing-service.json");
    writeFileSync(
      file,
      JSON.stringify({
        ...base,
        base: "explore",
        steps: [{ at: 0, fault: { kind: "process.pause", service: "forwarder-9" } }],
      }),
    );
    await expect(replayScheduleFile(file)).rejects.toThrow(
      `${file} is not a valid experiment:\n  - method[0].fault.service: "forwarder-9": expected one of`,
    );
  });
});
