// What a recorder has received, kept durably (docs/targets.md, "Egress"): the reference sink's
// record log (pipeline/sink/sink-records.ts), one record per fsync. Arrivals from every source of
// the recorder (connections, requests, reads) that come while a record is being made durable are
// gathered into the next one, so a busy recorder makes few large records rather than one per
// message. A caller's `add` resolves once its arrivals are durable: the HTTP recorder answers, and
// the Redis Streams recorder acknowledges, only then.

import { Counter, type Registry } from "prom-client";
import { DiskFailure } from "../../../pipeline/core/disk-failure.ts";
import { toStreamRanges } from "../../../pipeline/core/drops.ts";
import { DurableLog } from "../../../pipeline/core/durable-log.ts";
import type { EventId } from "../../../pipeline/core/event.ts";
import type { Clock, Disk, Log } from "../../../pipeline/core/seam.ts";
import {
  parseRecordFile,
  RECORD_FILE,
  type SinkRecord,
} from "../../../pipeline/sink/sink-records.ts";
import type { ScannedEvents } from "../identity.ts";

interface PendingArrivals {
  scanned: ScannedEvents;
  destination: string;
  resumeAt: unknown;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** What a record line holds besides the record: where the source resumes after a restart. */
interface StoredRecord extends SinkRecord {
  resumeAt?: unknown;
}

export function emptyArrivals(): ScannedEvents {
  return { events: [], corrupt: [] };
}

export function hasArrivals(scanned: ScannedEvents): boolean {
  return scanned.events.length > 0 || scanned.corrupt.length > 0;
}

export class RecordLog {
  readonly records: SinkRecord[] = [];
  readonly diskFailure: DiskFailure;
  private readonly destination: string;
  private readonly clock: Clock;
  private readonly disk: Disk;
  private readonly log: Log;
  private readonly file: DurableLog;
  private readonly recorded: Counter;
  private readonly corrupt: Counter;
  private pending: PendingArrivals[] = [];
  private flushing: Promise<void> | null = null;

  constructor(options: {
    destination: string;
    clock: Clock;
    disk: Disk;
    log: Log;
    metrics: Registry;
  }) {
    this.destination = options.destination;
    this.clock = options.clock;
    this.disk = options.disk;
    this.log = options.log;
    this.file = new DurableLog(options.disk, RECORD_FILE);
    this.diskFailure = new DiskFailure(options.log);
    this.recorded = new Counter({
      name: "recorder_recorded_events_total",
      help: "Events whose identity token arrived whole, recorded durably",
      registers: [options.metrics],
    });
    this.corrupt = new Counter({
      name: "recorder_corrupt_events_total",
      help: "Events whose token arrived cut short or not matching its identity",
      registers: [options.metrics],
    });
  }

  /** Reads back the records of earlier runs; resolves where the source said to resume, if it did. */
  async load(): Promise<unknown> {
    let resumeAt: unknown;
    for (const stored of parseRecordFile(await this.disk.read(RECORD_FILE), this.log)) {
      const { resumeAt: storedResumeAt, ...record } = stored as StoredRecord;
      if (storedResumeAt !== undefined) resumeAt = storedResumeAt;
      this.records.push(record);
    }
    return resumeAt;
  }

  /**
   * Records `scanned` durably, with `resumeAt` (JSON) saying where its source resumes after a
   * restart, returned by the next `load`, under `destination` (default the recorder's own).
   * Nothing is written when nothing arrived. Rejects once the disk has failed (the failure is
   * kept in `diskFailure`).
   */
  add(scanned: ScannedEvents, resumeAt?: unknown, destination = this.destination): Promise<void> {
    if (!hasArrivals(scanned)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.pending.push({ scanned, destination, resumeAt, resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  /** Resolves once every arrival added so far is durable (or refused). */
  async settled(): Promise<void> {
    while (this.flushing !== null) await this.flushing;
  }

  private async flushLoop(): Promise<void> {
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      // One record per destination (most batches have one), all made durable by one write.
      const byDestination = new Map<string, { events: EventId[]; corrupt: EventId[] }>();
      let resumeAt: unknown;
      for (const arrivals of batch) {
        let gathered = byDestination.get(arrivals.destination);
        if (gathered === undefined)
          byDestination.set(arrivals.destination, (gathered = { events: [], corrupt: [] }));
        for (const id of arrivals.scanned.events) gathered.events.push(id);
        for (const id of arrivals.scanned.corrupt) gathered.corrupt.push(id);
        if (arrivals.resumeAt !== undefined) resumeAt = arrivals.resumeAt;
      }
      const at = this.clock.now();
      const records = [...byDestination].map(
        ([destination, { events, corrupt }], offset): SinkRecord => ({
          index: this.records.length + offset,
          at,
          destination,
          count: events.length,
          streams: toStreamRanges(events),
          corrupt: toStreamRanges(corrupt),
        }),
      );
      // `load` takes the last resumeAt it reads: it goes on the last line of the write.
      const lines = records.map((record, offset): StoredRecord =>
        resumeAt === undefined || offset < records.length - 1 ? record : { ...record, resumeAt },
      );
      try {
        await this.diskFailure.run(`append to ${RECORD_FILE}`, () =>
          this.file.appendDurably(lines.map((line) => JSON.stringify(line) + "\n").join("")),
        );
      } catch (error) {
        for (const arrivals of batch) arrivals.reject(error);
        continue;
      }
      this.records.push(...records);
      for (const { events, corrupt } of byDestination.values()) {
        this.recorded.inc(events.length);
        this.corrupt.inc(corrupt.length);
      }
      for (const arrivals of batch) arrivals.resolve();
    }
    this.flushing = null;
  }
}
