// Filtering as "unconfigured" is silent only when the config in force can be trusted. While
// the config service is unreachable, or a refused config keeps the last good one in force, a
// job may exist that the forwarder or buffer has not heard of: what they filter then is
// declared dropped (found by `spillway explore`: a job added just before the config service
// died, or just before an empty config, was lost silently).

import { afterEach, expect, it } from "vitest";
import { batch, TWO_JOBS } from "../support/events.ts";
import { eventually, InProcessPipeline } from "../support/in-process.ts";

let pipeline: InProcessPipeline | undefined;
afterEach(async () => {
  await pipeline?.stopAll();
  pipeline = undefined;
});

interface Drops {
  records: Array<{ reason: string; count: number }>;
}

async function started(): Promise<InProcessPipeline> {
  pipeline = new InProcessPipeline({ settings: { config: TWO_JOBS } });
  await pipeline.start("config", "config");
  await pipeline.start("buffer", "buffer");
  await pipeline.start("forwarder", "forwarder");
  return pipeline;
}

async function drops(p: InProcessPipeline, name: string): Promise<Drops> {
  return JSON.parse((await p.call(name, "GET", "/drops?cursor=0")).body) as Drops;
}

it("filters an unconfigured tenant silently while the config is trusted", async () => {
  const p = await started();
  const answer = await p.call("forwarder", "POST", "/ingest", batch("t9", "http", 0, 5));
  expect(JSON.parse(answer.body)).toMatchObject({ filtered: 5 });
  expect((await drops(p, "forwarder")).records).toEqual([]);
});

it("declares what it filters while the config service is unreachable", async () => {
  const p = await started();
  await p.crash("config");
  // Two poll intervals without an answer make the config in force doubtful.
  await eventually(async () => {
    await p.call("forwarder", "POST", "/ingest", batch("t9", "http", 0, 5));
    const { records } = await drops(p, "forwarder");
    return records.length > 0 ? records : undefined;
  });
  const { records } = await drops(p, "forwarder");
  expect(records[0]).toMatchObject({
    reason:
      "filtered as unconfigured while the config in force is not confirmed by a recent poll of the config service",
    count: 5,
  });
  // The buffer refuses an unconfigured pair it is sent directly, and declares it too.
  await p.call("buffer", "POST", "/append", batch("t8", "http", 0, 3));
  expect((await drops(p, "buffer")).records[0]).toMatchObject({
    reason:
      "refused as unconfigured while the config in force is not confirmed by a recent poll of the config service",
    count: 3,
  });
});

it("declares what it filters while a refused config keeps the last good one in force", async () => {
  const p = await started();
  await p.call("config", "POST", "/config/push", JSON.stringify({ kind: "empty" }));
  await eventually(async () => {
    const log = JSON.parse((await p.call("forwarder", "GET", "/config-log")).body) as {
      failStatic: boolean;
    };
    return log.failStatic ? true : undefined;
  });
  await p.call("forwarder", "POST", "/ingest", batch("t9", "http", 0, 4));
  expect((await drops(p, "forwarder")).records[0]).toMatchObject({
    reason: "filtered as unconfigured while a refused config keeps the last good one in force",
    count: 4,
  });
});
