// The customer's destination: an HTTP receiver that records every event it is given, durably,
// before it answers 2xx. Records are compact (stream + seq ranges per request) and served on
// /records for the ledger. Sink faults (slow, 5xx, 429) are switched on /fault. A disk error
// makes it refuse pushes (503) and report unhealthy until restarted (pipeline/core/disk-failure.ts).

import { Counter } from "prom-client";
import type { Component, ComponentOptions } from "../core/component.ts";
import { DiskFailure } from "../core/disk-failure.ts";
import { DropLog, toStreamRanges, type StreamRanges } from "../core/drops.ts";
import { DurableLog } from "../core/durable-log.ts";
import { payloadMatches, type EventId } from "../core/event.ts";
import {
  json,
  parseEventBatch,
  parseJsonBody,
  problem,
  queryInteger,
  Router,
} from "../core/http.ts";
import { addObservability, newRegistry } from "../core/observe.ts";
import { parseSinkFault, type SinkFault } from "./sink-fault.ts";

export interface SinkRecord {
  /** Position in this sink's record log. */
  index: number;
  at: number;
  destination: string;
  count: number;
  streams: StreamRanges[];
  /** Events whose payload does not match their identity: recorded, never counted as delivered. */
  corrupt: StreamRanges[];
}

const RECORD_FILE = "records.ndjson";
const DESTINATION_PATTERN = /^\/ingest\/([A-Za-z0-9_.-]{1,128})$/;
const MAX_RECORDS_PER_PAGE = 5000;

export function createSink(
  options: ComponentOptions & { settings?: Record<string, unknown> },
): Component {
  const { seam, limits, instance } = options;
  // A remote destination's round trip: every push is answered after this long.
  const latencySetting = options.settings?.latencyMs ?? 0;
  if (
    typeof latencySetting !== "number" ||
    !Number.isInteger(latencySetting) ||
    latencySetting < 0 ||
    latencySetting > 60_000
  ) {
    throw new Error(
      `settings.latencyMs is ${JSON.stringify(latencySetting)}, expected an integer of milliseconds from 0 to 60000`,
    );
  }
  const latencyMs = latencySetting;
  const metrics = newRegistry("sink", instance);
  const received = new Counter({
    name: "sink_received_events_total",
    help: "Events recorded durably by this sink",
    registers: [metrics],
  });
  const corruptEvents = new Counter({
    name: "sink_corrupt_events_total",
    help: "Events whose payload did not match their identity",
    registers: [metrics],
  });
  const faulted = new Counter({
    name: "sink_faulted_requests_total",
    help: "Requests answered by an injected sink fault",
    labelNames: ["mode"],
    registers: [metrics],
  });
  const records: SinkRecord[] = [];
  const log = new DurableLog(seam.disk, RECORD_FILE);
  const drops = new DropLog(instance, limits.maxDropRecords);
  const diskFailure = new DiskFailure(seam.log);
  let fault: SinkFault = { mode: "none" };
  let ready = false;

  async function ingest(destination: string, body: string) {
    if (latencyMs > 0) await seam.clock.sleep(latencyMs);
    if (fault.mode === "slow") await seam.clock.sleep(fault.delayMs);
    if (fault.mode === "error") {
      faulted.inc({ mode: fault.mode });
      return problem(fault.status, `injected sink fault: ${fault.status}`);
    }
    if (fault.mode === "throttle") {
      faulted.inc({ mode: fault.mode });
      return problem(429, "injected sink fault: throttled", {
        "retry-after-ms": String(fault.retryAfterMs),
        "retry-after": String(Math.ceil(fault.retryAfterMs / 1000)),
      });
    }
    const lines = parseEventBatch(body, limits.maxEventsPerBatch);
    diskFailure.check();
    const good: EventId[] = [];
    const bad: EventId[] = [];
    for (const { event } of lines) (payloadMatches(event) ? good : bad).push(event);
    const record: SinkRecord = {
      index: records.length,
      at: seam.clock.now(),
      destination,
      count: good.length,
      streams: toStreamRanges(good),
      corrupt: toStreamRanges(bad),
    };
    await diskFailure.run(`append to ${RECORD_FILE}`, () =>
      log.appendDurably(JSON.stringify(record) + "\n"),
    );
    records.push(record);
    received.inc(good.length);
    corruptEvents.inc(bad.length);
    return json(200, { received: good.length, corrupt: bad.length });
  }

  const router = new Router()
    .on("POST", DESTINATION_PATTERN, (request, [destination]) => ingest(destination!, request.body))
    .on("GET", /^\/records$/, (request) => {
      const cursor = queryInteger(request, "cursor", 0);
      const max =
        queryInteger(request, "max", MAX_RECORDS_PER_PAGE, MAX_RECORDS_PER_PAGE) ||
        MAX_RECORDS_PER_PAGE;
      const page = records.slice(cursor, cursor + max);
      return json(200, { records: page, next: cursor + page.length, total: records.length });
    })
    .on("GET", /^\/fault$/, () => json(200, fault))
    .on("POST", /^\/fault$/, (request) => {
      fault = parseSinkFault(parseJsonBody(request));
      seam.log.warn("sink fault set", { fault });
      return json(200, fault);
    });
  addObservability(router, {
    metrics,
    drops,
    health: () => ({
      ok: ready && diskFailure.reason === null,
      records: records.length,
      fault: fault.mode,
      disk: diskFailure.reason ?? "ok",
    }),
  });

  return {
    name: "sink",
    handle: router.handle,
    metrics,
    async start() {
      const text = await seam.disk.read(RECORD_FILE);
      for (const line of (text ?? "").split("\n")) {
        if (line.length === 0) continue;
        try {
          records.push({ ...(JSON.parse(line) as SinkRecord), index: records.length });
        } catch {
          seam.log.warn("ignoring a torn record line at the end of the record file");
        }
      }
      ready = true;
    },
    async stop() {
      ready = false;
      await diskFailure.attempt(`sync ${RECORD_FILE}`, () => log.sync());
    },
  };
}
