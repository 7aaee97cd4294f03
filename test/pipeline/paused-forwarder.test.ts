// A config answer read late does not make the config in force fresh. Found by `spillway explore
// --profile hardened --runs 1000 --seed 9`: the forwarder paused for 6 s right after it sent a
// config poll, a job added meanwhile; on resume it read the poll's 6 s old answer, took its
// config for current and, until its next poll, filtered the new job's events silently (22 lost).
// Freshness now counts from when the answered poll was sent: docs/simulator.md, "What
// exploration found".

import { expect, it } from "vitest";
import { ConfigWatcher } from "../../pipeline/config/config-watcher.ts";
import { resolveLimits } from "../../pipeline/core/limits.ts";
import type { HttpResponse, Seam } from "../../pipeline/core/seam.ts";
import { runOnSimulator } from "../../harness/experiment/sim-run.ts";
import { exploreScenario } from "../../harness/explore/scenario.ts";
import { scheduleExperiment } from "../../harness/explore/schedule.ts";

const CONFIG = JSON.stringify({
  version: 1,
  generatedAt: 0,
  jobs: [{ id: "j1", tenant: "t1", dataset: "http", destination: "sink-0/t1.http", enabled: true }],
});

/** A watcher on a hand-driven clock whose one poll is answered when `answer` is called. */
function watcherWithHeldPoll(): {
  watcher: ConfigWatcher;
  started: Promise<void>;
  setNow(at: number): void;
  answer(): void;
} {
  let now = 0;
  let respond: ((response: HttpResponse) => void) | undefined;
  const seam = {
    clock: {
      now: () => now,
      // The background loop never polls again: the test decides what the watcher hears.
      sleep: () => new Promise<void>(() => {}),
      schedule: () => ({ cancel() {} }),
    },
    net: {
      request: () => new Promise<HttpResponse>((resolve) => (respond = resolve)),
    },
    log: { info() {}, warn() {}, error() {} },
  } as unknown as Seam;
  const watcher = new ConfigWatcher(seam, "http://config", resolveLimits(), "forwarder");
  return {
    watcher,
    started: watcher.start(),
    setNow: (at) => (now = at),
    answer: () => respond!({ status: 200, body: CONFIG }),
  };
}

it("a config answer read long after its poll was sent leaves the config in doubt", async () => {
  const { watcher, started, setNow, answer } = watcherWithHeldPoll();
  const pollMs = resolveLimits().configPollMs;
  // Paused between sending the poll and reading its answer.
  setNow(30 * pollMs);
  answer();
  await started;
  expect(watcher.pairs()).toEqual(new Set(["t1/http"]));
  expect(watcher.stale(30 * pollMs)).toBe(true);
  expect(watcher.doubt(30 * pollMs)).toBe(
    "the config in force is not confirmed by a recent poll of the config service",
  );
});

it("a config answer read promptly is trusted for two poll intervals from its poll", async () => {
  const { watcher, started, setNow, answer } = watcherWithHeldPoll();
  const pollMs = resolveLimits().configPollMs;
  setNow(pollMs / 2);
  answer();
  await started;
  expect(watcher.stale(pollMs)).toBe(false);
  expect(watcher.doubt(2 * pollMs)).toBeNull();
  expect(watcher.stale(2 * pollMs + 1)).toBe(true);
});

it("hardened: a job added while the forwarder is paused loses nothing silently (the schedule explore found, seed 9)", async () => {
  const experiment = scheduleExperiment(exploreScenario(), {
    spillway: "schedule",
    version: 1,
    base: "explore",
    profile: "hardened",
    seed: 9,
    steps: [
      { at: 0, for: 6_000, fault: { kind: "process.pause", service: "forwarder" } },
      { at: 10, fault: { kind: "config.add-job", tenant: "t001", dataset: "firewall_events" } },
    ],
  });
  const { journal } = await runOnSimulator(experiment, { profile: "hardened", seed: 9 });
  expect(journal.status, journal.error).toBe("completed");
  const verdict = journal.verdict!;
  expect(verdict.invariants["no-silent-loss"]!.status).toBe("held");
  expect(verdict.ledgerByTenant["t001"]).toMatchObject({ lost: 0, declared: 22 });
});
