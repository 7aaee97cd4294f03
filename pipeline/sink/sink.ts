// The customer's destination: an HTTP receiver that records every event it is given, durably,
// before it answers 2xx. Records are compact (stream + seq ranges per request) and served on
// /records for the ledger. Sink faults (slow, 5xx, 429) are switched on /fault. A disk error
// makes it refuse pushes (503) and report unhealthy until restarted (pipeline/core/disk-failure.ts).

import { Counter } from "prom-client";
import type { Component, ComponentOptions } from "../core/component.ts";
import { DiskFailure } from "../core/disk-failure.ts";
import { DropLog, toStreamRanges } from "../core/drops.ts";
import { DurableLog } from "../core/durable-log.ts";
import { payloadMatches, type EventId } from "../core/event.ts";
import { json, parseEventBatch, parseJsonBody, Router } from "../core/http.ts";
import { addObservability, newRegistry } from "../core/observe.ts";
import { faultAnswer, parseSinkFault, type SinkFault } from "./sink-fault.ts";
import { parseRecordFile, RECORD_FILE, recordsPage, type SinkRecord } from "./sink-records.ts";

export type { SinkRecord } from "./sink-records.ts";

const DESTINATION_PATTERN = /^\/ingest\/([A-Za-z0-9_.-]{1,128})$/;

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
    const faulty = await faultAnswer(fault, seam.clock);
    if (faulty !== null) {
      faulted.inc({ mode: faulty.mode });
      return faulty.answer;
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
    .on("GET", /^\/records$/, (request) => recordsPage(records, request))
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
      records.push(...parseRecordFile(await seam.disk.read(RECORD_FILE), seam.log));
      ready = true;
    },
    async stop() {
      ready = false;
      await diskFailure.attempt(`sync ${RECORD_FILE}`, () => log.sync());
    },
  };
}
