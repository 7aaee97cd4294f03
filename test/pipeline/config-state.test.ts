// The config service's state survives a crash: jobs added at run time, the job timeline the
// ledger reads and the published configs are logged durably and replayed on start.

import { afterEach, expect, it } from "vitest";
import { TWO_JOBS } from "../support/events.ts";
import { InProcessPipeline } from "../support/in-process.ts";

let pipeline: InProcessPipeline | undefined;
afterEach(async () => {
  await pipeline?.stopAll();
  pipeline = undefined;
});

it("a crashed and restarted config service keeps its jobs, timeline and config history", async () => {
  pipeline = new InProcessPipeline({ settings: { config: TWO_JOBS } });
  const p = pipeline;
  await p.start("config", "config");
  const added = await p.call(
    "config",
    "POST",
    "/jobs",
    JSON.stringify({ tenant: "t7", dataset: "dns", destination: "sink-0/t7.dns" }),
  );
  expect(added.status).toBe(201);
  const { job } = JSON.parse(added.body) as { job: { id: string } };
  await p.call("config", "PATCH", `/jobs/${job.id}`, JSON.stringify({ enabled: false }));
  await p.call("config", "POST", "/config/push", JSON.stringify({ kind: "empty" }));
  const before = {
    jobs: (await p.call("config", "GET", "/jobs")).body,
    timeline: (await p.call("config", "GET", "/timeline")).body,
    config: (await p.call("config", "GET", "/config")).body,
  };

  await p.crash("config");
  await p.start("config", "config");

  expect((await p.call("config", "GET", "/jobs")).body).toBe(before.jobs);
  expect((await p.call("config", "GET", "/timeline")).body).toBe(before.timeline);
  expect((await p.call("config", "GET", "/config")).body).toBe(before.config);
  const timeline = JSON.parse(before.timeline) as {
    changes: Array<{ id: string; enabled: boolean }>;
    configs: Array<{ version: number; origin: string }>;
  };
  expect(timeline.changes.filter((change) => change.id === job.id)).toEqual([
    expect.objectContaining({ enabled: true }),
    expect.objectContaining({ enabled: false }),
  ]);
  expect(timeline.configs.map((config) => config.origin)).toEqual([
    "generated",
    "generated",
    "generated",
    "pushed-empty",
  ]);
  // A new job after the restart does not reuse an id.
  const next = await p.call(
    "config",
    "POST",
    "/jobs",
    JSON.stringify({ tenant: "t8", dataset: "dns", destination: "sink-0/t8.dns" }),
  );
  expect((JSON.parse(next.body) as { job: { id: string } }).job.id).not.toBe(job.id);
});
