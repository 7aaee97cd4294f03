// Gathers the ledger's inputs from a running pipeline over the runtime's Net: every sink's records, every
// component's declared drops, the config service's job timeline and the buffer's high-water
// marks. Runtime-agnostic: it needs only each service's base URL.

import type { DropRecord } from "../../pipeline/core/drops.ts";
import type { Net } from "../../pipeline/core/seam.ts";
import { probeText, requestJson } from "../http/json-client.ts";
import { readSeenConfig, type SeenConfig } from "./job-record.ts";
import type { SinkRecord } from "../../pipeline/sink/sink.ts";
import type { JobChange } from "../../pipeline/config/config-service.ts";
import { jobSpans, type JobSpan, type LedgerDelivery } from "./ledger.ts";
import { servicesRunning } from "../runtime/runtime.ts";

export interface ServiceAddress {
  name: string;
  component: string;
  url: string;
}

export interface BufferStats {
  bytes: number;
  buffers: number;
  chunks: number;
  highWaterBytes: number;
  highWaterBytesAt: number;
  highWaterBuffers: number;
  highWaterBuffersAt: number;
  bounds: { maxBufferBytes: number; maxTenantBytes: number; maxBuffers: number } | null;
}

const REQUEST_TIMEOUT_MS = 10_000;
const MAX_PAGES = 100_000;

function getJson<T>(net: Net, url: string): Promise<T> {
  return requestJson<T>(net, "GET", url, { timeoutMs: REQUEST_TIMEOUT_MS });
}

/**
 * Pages through a cursor endpoint (`?cursor=N` → `{ records, next }`) from `cursor` to the end;
 * returns what it read and the cursor to read on from later.
 */
export async function pagesFrom<T>(
  net: Net,
  baseUrl: string,
  cursor = 0,
): Promise<{ records: T[]; next: number }> {
  const records: T[] = [];
  for (let page = 0; page < MAX_PAGES; page++) {
    const answer = await getJson<{ records: T[]; next: number }>(
      net,
      `${baseUrl}?cursor=${cursor}`,
    );
    records.push(...answer.records);
    if (answer.records.length === 0 || answer.next <= cursor) return { records, next: cursor };
    cursor = answer.next;
  }
  throw new Error(`${baseUrl} returned more than ${MAX_PAGES} pages`);
}

async function allPages<T>(net: Net, baseUrl: string): Promise<T[]> {
  return (await pagesFrom<T>(net, baseUrl)).records;
}

export async function collectDeliveries(
  net: Net,
  services: readonly ServiceAddress[],
): Promise<LedgerDelivery[]> {
  const deliveries: LedgerDelivery[] = [];
  for (const sink of servicesRunning(services, "sink")) {
    for (const record of await allPages<SinkRecord>(net, `${sink.url}/records`)) {
      deliveries.push({
        destination: `${sink.name}/${record.destination}`,
        at: record.at,
        streams: record.streams,
        corrupt: record.corrupt,
      });
    }
  }
  return deliveries;
}

/** Every service's declared drops; services that do not answer are listed as unreadable. */
export async function collectDrops(
  net: Net,
  services: readonly ServiceAddress[],
): Promise<{ drops: DropRecord[]; unreadable: string[] }> {
  const drops: DropRecord[] = [];
  const unreadable: string[] = [];
  for (const service of services) {
    try {
      drops.push(...(await allPages<DropRecord>(net, `${service.url}/drops`)));
    } catch {
      unreadable.push(service.name);
    }
  }
  return { drops, unreadable };
}

export async function collectJobs(
  net: Net,
  config: ServiceAddress,
): Promise<{ changes: JobChange[]; spans: JobSpan[] }> {
  const timeline = await getJson<{ changes: JobChange[] }>(net, `${config.url}/timeline`);
  return { changes: timeline.changes, spans: jobSpans(timeline.changes) };
}

export async function bufferStats(net: Net, buffer: ServiceAddress): Promise<BufferStats> {
  return getJson<BufferStats>(net, `${buffer.url}/stats`);
}

/** Most time a read of the published config may take. */
const READ_CONFIG_TIMEOUT_MS = 5_000;

/** The config the config service publishes now, as the harness reads it; null without an answer. */
export async function readPublishedConfig(
  net: Net,
  config: { url: string },
  seenAt: () => number,
  timeoutMs = READ_CONFIG_TIMEOUT_MS,
): Promise<SeenConfig | null> {
  const body = await probeText(net, `${config.url}/config`, timeoutMs);
  return body === null ? null : readSeenConfig(body, seenAt());
}
