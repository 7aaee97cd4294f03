// The buffer's write-ahead log: segment files of text records.
//   A <chunkId> <tenant> <dataset> <lineCount>\n  followed by lineCount raw NDJSON event lines
//   K <chunkId>\n                                   the chunk was acknowledged (deleted)
// Event lines are JSON and never contain a raw newline, so the format needs no escaping.
// A torn tail (crash mid-write) is ignored on recovery.

import type { DiskFailure } from "../core/disk-failure.ts";
import { DurableLog } from "../core/durable-log.ts";
import type { Disk } from "../core/seam.ts";

export interface RecoveredChunk {
  id: number;
  tenant: string;
  dataset: string;
  lines: string[];
  segment: string;
}

const SEGMENT_PREFIX = "wal-";

export function segmentName(number: number): string {
  return `${SEGMENT_PREFIX}${String(number).padStart(8, "0")}.log`;
}

export function appendRecord(
  id: number,
  tenant: string,
  dataset: string,
  body: string,
  lineCount: number,
): string {
  return `A ${id} ${tenant} ${dataset} ${lineCount}\n${body}`;
}

export function ackRecord(id: number): string {
  return `K ${id}\n`;
}

/** Replays every segment in order; returns live chunks in append order and the last segment number. */
export async function recoverWal(
  disk: Disk,
): Promise<{ chunks: RecoveredChunk[]; lastSegment: number }> {
  const segments = await disk.list(SEGMENT_PREFIX);
  const live = new Map<number, RecoveredChunk>();
  let lastSegment = 0;
  for (const segment of segments) {
    lastSegment = Math.max(
      lastSegment,
      Number(segment.slice(SEGMENT_PREFIX.length, -".log".length)) || 0,
    );
    const text = (await disk.read(segment)) ?? "";
    const lines = text.split("\n");
    // A file that does not end in a newline has a torn last line: drop it.
    if (lines[lines.length - 1] !== "") lines[lines.length - 1] = "";
    let index = 0;
    while (index < lines.length) {
      const header = lines[index++]!;
      if (header === "") continue;
      const parts = header.split(" ");
      if (parts[0] === "K" && parts.length === 2) {
        live.delete(Number(parts[1]));
      } else if (parts[0] === "A" && parts.length === 5) {
        const count = Number(parts[4]);
        const body = lines.slice(index, index + count);
        if (body.length < count || body.some((line) => line === "")) break; // torn append
        index += count;
        live.set(Number(parts[1]), {
          id: Number(parts[1]),
          tenant: parts[2]!,
          dataset: parts[3]!,
          lines: body,
          segment,
        });
      } else {
        break; // garbage: the rest of this segment is a torn write
      }
    }
  }
  return { chunks: [...live.values()].sort((a, b) => a.id - b.id), lastSegment };
}

/** The active log with rolling segments and per-segment live-chunk counts for deletion. */
export class WriteAheadLog {
  private readonly disk: Disk;
  private readonly diskFailure: DiskFailure;
  private readonly log: DurableLog;
  private readonly segmentBytes: number;
  private segmentNumber: number;
  private readonly liveBySegment = new Map<string, number>();

  constructor(disk: Disk, diskFailure: DiskFailure, lastSegment: number, segmentBytes: number) {
    this.disk = disk;
    this.diskFailure = diskFailure;
    this.segmentNumber = lastSegment + 1;
    this.segmentBytes = segmentBytes;
    this.log = new DurableLog(disk, segmentName(this.segmentNumber));
  }

  get activeSegment(): string {
    return this.log.fileName;
  }

  track(segment: string): void {
    this.liveBySegment.set(segment, (this.liveBySegment.get(segment) ?? 0) + 1);
  }

  /** Durable append (hardened): resolves after fsync. Returns the segment it went to. */
  async appendDurably(record: string): Promise<string> {
    const segment = this.log.fileName;
    this.track(segment);
    await this.log.appendDurably(record);
    await this.maybeRoll();
    return segment;
  }

  /** Volatile append (buffer.ackBeforeDurable): written at the next flush. */
  appendLazily(record: string): string {
    const segment = this.log.fileName;
    this.track(segment);
    this.log.appendLazily(record);
    return segment;
  }

  /** Acks need no fsync: losing one only causes a redelivery. */
  recordAck(id: number, segment: string): void {
    this.log.appendLazily(ackRecord(id));
    const left = (this.liveBySegment.get(segment) ?? 1) - 1;
    if (left > 0 || segment === this.log.fileName) {
      this.liveBySegment.set(segment, left);
      return;
    }
    this.liveBySegment.delete(segment);
    void this.diskFailure.attempt(`remove ${segment}`, () => this.disk.remove(segment));
  }

  async flush(): Promise<void> {
    await this.log.sync();
    await this.maybeRoll();
  }

  private async maybeRoll(): Promise<void> {
    if (this.log.size < this.segmentBytes) return;
    const finished = this.log.fileName;
    this.segmentNumber++;
    await this.log.rollTo(segmentName(this.segmentNumber));
    if ((this.liveBySegment.get(finished) ?? 0) <= 0) {
      this.liveBySegment.delete(finished);
      await this.disk.remove(finished);
    }
  }
}
