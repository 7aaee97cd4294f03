// A revert rolls the jobs back with the config: the job timeline (the ledger's ground truth)
// never says a job is enabled while the published config leaves it out. Found by
// `spillway explore --profile hardened --runs 1000`: a job added and reverted 10 ms later stayed
// enabled in the timeline, so the ledger expected its events and counted them lost.

import { afterEach, expect, it } from "vitest";
import { runOnSimulator } from "../../harness/experiment/sim-run.ts";
import { exploreScenario } from "../../harness/explore/scenario.ts";
import { scheduleExperiment } from "../../harness/explore/schedule.ts";
import { TWO_JOBS } from "../support/events.ts";
import { InProcessPipeline } from "../support/in-process.ts";

let pipeline: InProcessPipeline | undefined;
afterEach(async () => {
  await pipeline?.stopAll();
  pipeline = undefined;
});

interface Listed {
  id: string;
  tenant: string;
  enabled: boolean;
}

it("a revert disables a job added since, and re-enables one disabled since", async () => {
  pipeline = new InProcessPipeline({ settings: { config: TWO_JOBS } });
  const p = pipeline;
  await p.start("config", "config");
  const jobs = async () => JSON.parse((await p.call("config", "GET", "/jobs")).body) as Listed[];
  const [first] = await jobs();

  const added = await p.call(
    "config",
    "POST",
    "/jobs",
    JSON.stringify({ tenant: "t7", dataset: "dns", destination: "sink-0/t7.dns" }),
  );
  const { job } = JSON.parse(added.body) as { job: Listed };
  const reverted = await p.call("config", "POST", "/config/revert");
  expect(reverted.status).toBe(200);
  expect((await jobs()).find((listed) => listed.id === job.id)?.enabled).toBe(false);
  const config = JSON.parse((await p.call("config", "GET", "/config")).body) as {
    jobs: Listed[];
  };
  expect(config.jobs.map((listed) => listed.id).sort()).toEqual(
    (await jobs())
      .filter((listed) => listed.enabled)
      .map((listed) => listed.id)
      .sort(),
  );

  await p.call("config", "PATCH", `/jobs/${first!.id}`, JSON.stringify({ enabled: false }));
  expect((await jobs()).find((listed) => listed.id === first!.id)?.enabled).toBe(false);
  await p.call("config", "POST", "/config/revert");
  expect((await jobs()).find((listed) => listed.id === first!.id)?.enabled).toBe(true);

  const timeline = JSON.parse((await p.call("config", "GET", "/timeline")).body) as {
    changes: Array<{ id: string; enabled: boolean }>;
  };
  expect(
    timeline.changes.filter((change) => change.id === job.id).map((change) => change.enabled),
  ).toEqual([true, false]);
  expect(
    timeline.changes.filter((change) => change.id === first!.id).map((change) => change.enabled),
  ).toEqual([true, false, true]);
});

it("hardened: a job added and reverted 10 ms later loses nothing (the schedule explore found)", async () => {
  const experiment = scheduleExperiment(exploreScenario(), {
    spillway: "schedule",
    version: 1,
    base: "explore",
    profile: "hardened",
    seed: 1,
    steps: [
      { at: 6_830, fault: { kind: "config.add-job", tenant: "t031", dataset: "http_requests" } },
      { at: 6_840, fault: { kind: "config.revert" } },
    ],
  });
  const { journal } = await runOnSimulator(experiment, { profile: "hardened", seed: 1 });
  expect(journal.status, journal.error).toBe("completed");
  const verdict = journal.verdict!;
  expect(verdict.invariants["no-silent-loss"]!.status).toBe("held");
  expect(verdict.invariants["config-safety"]!.status).toBe("held");
});
