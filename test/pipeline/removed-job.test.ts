// Events a job had buffered when a config change removed it are declared dropped by the buffer,
// with the job and the config version in the reason (hardened), instead of sitting there
// undelivered. Found by `spillway explore --profile hardened --runs 1000 --seed 7`: a job added,
// its sink erroring, then a revert: the 7 events the buffer held for the job were lost silently.
// Why declared rather than delivered: docs/simulator.md, "What exploration found".

import { afterEach, expect, it } from "vitest";
import { runOnSimulator } from "../../harness/experiment/sim-run.ts";
import { exploreScenario } from "../../harness/explore/scenario.ts";
import { scheduleExperiment } from "../../harness/explore/schedule.ts";
import { batch, TWO_JOBS } from "../support/events.ts";
import { eventually, InProcessPipeline } from "../support/in-process.ts";

let pipeline: InProcessPipeline | undefined;
afterEach(async () => {
  await pipeline?.stopAll();
  pipeline = undefined;
});

interface Drop {
  reason: string;
  count: number;
  streams: Array<{ tenant: string; dataset: string; ranges: Array<[number, number]> }>;
}

interface Stats {
  bytes: number;
  buffers: number;
  leases: number;
}

/** Config service and buffer, with a job for t7/http added at run time and known to the buffer. */
async function bufferWithAddedJob(): Promise<InProcessPipeline> {
  pipeline = new InProcessPipeline({ settings: { config: TWO_JOBS } });
  const p = pipeline;
  await p.start("config", "config");
  await p.start("buffer", "buffer");
  const job = { tenant: "t7", dataset: "http", destination: "sink-0/t7.http" };
  expect((await p.call("config", "POST", "/jobs", JSON.stringify(job))).status).toBe(201);
  await eventually(async () => {
    const answer = await p.call("buffer", "POST", "/append", batch("t7", "http", 0, 3));
    return (JSON.parse(answer.body) as { appended: number }).appended === 3 ? true : undefined;
  });
  return p;
}

/**
 * The buffer's drops for a removed job. Others may come first: on a busy machine an append made
 * before the buffer heard of the job can be refused "as unconfigured while the config service
 * is unreachable" when its poll is late, and that refusal is declared too.
 */
async function drops(p: InProcessPipeline): Promise<Drop[]> {
  return (
    JSON.parse((await p.call("buffer", "GET", "/drops?cursor=0")).body) as { records: Drop[] }
  ).records.filter((record) => record.reason.startsWith("the job for tenant"));
}

async function stats(p: InProcessPipeline): Promise<Stats> {
  return JSON.parse((await p.call("buffer", "GET", "/stats")).body) as Stats;
}

function lease(p: InProcessPipeline) {
  return p.call("buffer", "POST", "/lease", JSON.stringify({ tenant: "t7", dataset: "http" }));
}

it("events buffered for a job a revert removes are declared, naming the job and the config version", async () => {
  const p = await bufferWithAddedJob();
  const before = await stats(p);
  expect(before.bytes).toBeGreaterThan(0);
  const reverted = await p.call("config", "POST", "/config/revert");
  const { version } = JSON.parse(reverted.body) as { version: number };

  const [record] = await eventually(async () => {
    const records = await drops(p);
    return records.length > 0 ? records : undefined;
  });
  expect(record).toMatchObject({
    reason: `the job for tenant "t7" and dataset "http" was removed (config version ${version}) while these events were buffered`,
    count: 3,
    streams: [{ tenant: "t7", dataset: "http", ranges: [[0, 2]] }],
  });
  // Their bytes and their buffer are freed, not held against the bounds.
  expect(await stats(p)).toMatchObject({ bytes: 0, buffers: before.buffers - 1, leases: 0 });
  expect((await lease(p)).status).toBe(404);
});

it("a batch leased when its job is removed stays until its push acks it; the rest is declared", async () => {
  const p = await bufferWithAddedJob();
  const leased = await lease(p);
  expect(leased.headers?.["x-lease-count"]).toBe("3");
  await p.call("buffer", "POST", "/append", batch("t7", "http", 3, 2));
  await p.call("config", "POST", "/config/revert");

  const [record] = await eventually(async () => {
    const records = await drops(p);
    return records.length > 0 ? records : undefined;
  });
  expect(record).toMatchObject({ count: 2, streams: [{ ranges: [[3, 4]] }] });
  const leaseId = Number(leased.headers?.["x-lease-id"]);
  const acked = await p.call("buffer", "POST", "/ack", JSON.stringify({ leaseId }));
  expect(JSON.parse(acked.body)).toEqual({ acked: 3 });
  expect(await stats(p)).toMatchObject({ bytes: 0, leases: 0 });
  expect(await drops(p)).toHaveLength(1);
});

it("a job that is still configured keeps its buffered events", async () => {
  const p = await bufferWithAddedJob();
  // Another job's change publishes a new config that still has t7/http.
  await p.call(
    "config",
    "POST",
    "/jobs",
    JSON.stringify({ tenant: "t8", dataset: "http", destination: "sink-0/t8.http" }),
  );
  await p.call("config", "POST", "/config/revert");
  await eventually(async () => {
    const answer = await p.call("buffer", "POST", "/append", batch("t8", "http", 0, 1));
    return (JSON.parse(answer.body) as { appended: number }).appended === 0 ? true : undefined;
  });
  // Several checks later the held events are still there and leasable.
  await new Promise((resolve) => setTimeout(resolve, 5 * p.limits.configPollMs));
  expect(await drops(p)).toEqual([]);
  expect((await lease(p)).headers?.["x-lease-count"]).toBe("3");
});

it("hardened: a job added, its sink erroring, then a revert loses nothing silently (the schedule explore found, seed 7)", async () => {
  const experiment = scheduleExperiment(exploreScenario(), {
    spillway: "schedule",
    version: 1,
    base: "explore",
    profile: "hardened",
    seed: 7,
    steps: [
      { at: 2_190, fault: { kind: "config.add-job", tenant: "t023", dataset: "firewall_events" } },
      { at: 6_190, for: 4_600, fault: { kind: "sink.error", sink: "sink-0" } },
      { at: 10_590, fault: { kind: "config.revert" } },
    ],
  });
  const { journal } = await runOnSimulator(experiment, { profile: "hardened", seed: 7 });
  expect(journal.status, journal.error).toBe("completed");
  const verdict = journal.verdict!;
  expect(verdict.invariants["no-silent-loss"]!.status).toBe("held");
  expect(verdict.ledgerByTenant["t023"]).toMatchObject({ lost: 0, declared: 7 });
});
