import { once } from "node:events";
import { createServer } from "node:net";
import { expect } from "vitest";
import { encodeGeneratedEvent, streamKey, type EventId } from "../../../pipeline/core/event.ts";
import type { Log } from "../../../pipeline/core/seam.ts";
import { eventIds } from "../../../harness/target/ingress/sending.ts";
import type { Batch } from "../../../harness/workload/batch.ts";
import { StreamRecord } from "../../../harness/workload/record.ts";

export interface StreamRun {
  tenant: string;
  dataset: string;
  producer: string;
  seqFrom: number;
  count: number;
}

/** A batch as the workload builds it: slices of contiguous seqs, and their NDJSON body. */
export function makeBatch(runs: StreamRun[], payloadBytes = 32): Batch {
  const slices = runs.map((run) => ({
    stream: new StreamRecord(run.tenant, run.dataset, run.producer),
    seqFrom: run.seqFrom,
    seqTo: run.seqFrom + run.count - 1,
  }));
  const draft: Batch = { producer: runs[0]!.producer, eventCount: 0, body: "", slices };
  let body = "";
  let eventCount = 0;
  for (const id of eventIds(draft)) {
    body += encodeGeneratedEvent(id, payloadBytes) + "\n";
    eventCount++;
  }
  return { ...draft, eventCount, body };
}

/** Two streams of one producer, `count` events each, from seq `seqFrom`. */
export function twoStreams(count: number, seqFrom = 0): Batch {
  return makeBatch([
    { tenant: "t000", dataset: "http_requests", producer: "edge-0", seqFrom, count },
    { tenant: "t001", dataset: "firewall_events", producer: "edge-0", seqFrom, count },
  ]);
}

/** The events of `batches`, in order. */
export function idsOf(...batches: Batch[]): EventId[] {
  return batches.flatMap((batch) => [...eventIds(batch)]);
}

/** Asserts that `received` holds every one of `expected` exactly once, and nothing else. */
export function expectEachOnce(received: EventId[], expected: EventId[]): void {
  expect(received.map(streamSeq).sort()).toEqual(expected.map(streamSeq).sort());
}

function streamSeq(id: EventId): string {
  return `${streamKey(id)}#${id.seq}`;
}

/** A loopback port nothing listens on (until someone binds it). */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  server.close();
  await once(server, "close");
  if (typeof address !== "object" || address === null) throw new Error("no port was bound");
  return address.port;
}

/** A Log that records messages, for waiting on what an ingress noticed. */
export function recordingLog(): Log & { messages: string[]; next(message: string): Promise<void> } {
  const messages: string[] = [];
  const waiters: { message: string; resolve(): void }[] = [];
  const record = (message: string): void => {
    messages.push(message);
    for (const waiter of waiters.filter((waiter) => waiter.message === message)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
  };
  return {
    messages,
    info: record,
    warn: record,
    error: record,
    next: (message) => new Promise((resolve) => waiters.push({ message, resolve })),
  };
}
