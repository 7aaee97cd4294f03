// A recorder's process (docs/targets.md, "Egress"): at the far end of a target's pipeline, it
// receives what the pipeline sends (syslog, HTTP, a file, a Redis stream), records durably which
// events arrived, and serves the records on its admin port as the reference sink does, so the
// ledger reads them alike. It runs under the harness as a pipeline component does
// (harness/runtime/process/service-process.ts): a `ready` line with the admin port on stdout,
// /healthz, the same port and data on a restart, and an exit when its parent harness is gone.
//
//   node harness/target/recorders/main.ts --kind <kind> --port <admin port> --data-dir <dir> ...
//   (harness/target/recorders/options.ts lists every option)

import { CommanderError } from "commander";
import { DropLog } from "../../../pipeline/core/drops.ts";
import { Router } from "../../../pipeline/core/http.ts";
import { DEFAULT_LIMITS } from "../../../pipeline/core/limits.ts";
import { addObservability, newRegistry } from "../../../pipeline/core/observe.ts";
import { exitWithParent } from "../../../pipeline/host/parent-watch.ts";
import { createRealDisk, createRealLog, realClock } from "../../../pipeline/host/real-seam.ts";
import { serve } from "../../../pipeline/host/server.ts";
import { recordsPage } from "../../../pipeline/sink/sink-records.ts";
import { fileReceiver } from "./file.ts";
import { httpReceiver } from "./http.ts";
import { parseRecorderArguments, type RecorderOptions, type RecorderSource } from "./options.ts";
import type { Receiver, ReceiverContext } from "./receiver.ts";
import { RecordLog } from "./record-log.ts";
import { redisStreamsReceiver } from "./redis-streams.ts";
import { syslogReceiver } from "./syslog.ts";

/** After SIGTERM, how long the recorder may take to record what arrived before it exits anyway. */
const STOP_GRACE_MS = 3_000;

function fail(message: string, code: number): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(code);
}

function receiverFor(source: RecorderSource, context: ReceiverContext): Receiver {
  switch (source.kind) {
    case "syslog":
      return syslogReceiver(context, source);
    case "http":
      return httpReceiver(context, source);
    case "file":
      return fileReceiver(context, source);
    case "redis-streams":
      return redisStreamsReceiver(context, source);
  }
}

let options: RecorderOptions;
try {
  options = parseRecorderArguments(process.argv.slice(2));
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode);
  fail((error as Error).message, 2);
}

const { instance, source } = options;
const log = createRealLog("recorder", instance);
const disk = createRealDisk(options.dataDir);
const metrics = newRegistry("recorder", instance);
const records = new RecordLog({
  destination: options.destination,
  clock: realClock,
  disk,
  log,
  metrics,
});
const receiver = receiverFor(source, {
  records,
  resumeAt: await records.load(),
  clock: realClock,
  log,
  metrics,
});
try {
  await receiver.start();
} catch (error) {
  fail(`the ${source.kind} recorder cannot start: ${(error as Error).message}`, 1);
}

let stopping = false;
const router = new Router().on("GET", /^\/records$/, (request) =>
  recordsPage(records.records, request),
);
receiver.addRoutes?.(router);
addObservability(router, {
  metrics,
  // A recorder declares no drops; /drops answers, empty, as every service's does.
  drops: new DropLog(instance, DEFAULT_LIMITS.maxDropRecords),
  health: () => ({
    ok: !stopping && records.diskFailure.reason === null,
    kind: source.kind,
    records: records.records.length,
    disk: records.diskFailure.reason ?? "ok",
    ...receiver.health(),
  }),
});
const admin = await serve({
  handle: router.handle,
  host: "127.0.0.1",
  port: options.port,
  limits: DEFAULT_LIMITS,
  log,
});
log.info("ready", { port: admin.port, pid: process.pid, kind: source.kind });

async function shutdown(reason: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info("stopping", { reason });
  setTimeout(() => process.exit(0), STOP_GRACE_MS).unref();
  await receiver.close();
  await admin.close();
  await records.diskFailure.attempt("close the record file", () => disk.close());
  process.exit(0);
}

process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
if (options.parentPid !== undefined) {
  exitWithParent(options.parentPid, () => void shutdown("parent gone"));
}
