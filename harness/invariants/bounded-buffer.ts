// bounded-buffer (docs/architecture.md §5): the buffer stays within every bound the profile
// declares: bytes held across all buffers, the number of buffers, the bytes any one tenant
// holds, and the memory of its process. The marks are the maxima over every /stats reading of
// the run: each incarnation of the buffer reports its own since it started, so a restart does
// not hide one. Memory is judged on the buffer's own events only: another service killed by
// its memory cap is in the evidence, not a breach of the buffer's bound.

import { bytes, count, duration, percent, plural, share, when } from "./format.ts";
import type {
  BufferSample,
  InvariantResult,
  MemoryEvent,
  Observations,
  TargetBounds,
} from "./types.ts";

const MEMORY_EVENTS_LIMIT = 10;

interface Mark {
  value: number;
  at: number;
  /** The tenant that held it, for the per-tenant mark. */
  tenant?: string | null;
}

/** The highest reading, the earliest when several tie; null without a reading. */
function highWater(
  samples: readonly BufferSample[],
  read: (sample: BufferSample) => Mark | null,
): Mark | null {
  let best: Mark | null = null;
  for (const sample of samples) {
    const mark = read(sample);
    if (mark === null) continue;
    if (
      best === null ||
      mark.value > best.value ||
      (mark.value === best.value && mark.at < best.at)
    ) {
      best = mark;
    }
  }
  return best;
}

/** A sample's mark, or what it held right then when that is higher (a mark is never lower). */
const bytesMark = (sample: BufferSample): Mark =>
  sample.bytes > sample.highWaterBytes
    ? { value: sample.bytes, at: sample.at }
    : { value: sample.highWaterBytes, at: sample.highWaterBytesAt };
const buffersMark = (sample: BufferSample): Mark =>
  sample.buffers > sample.highWaterBuffers
    ? { value: sample.buffers, at: sample.at }
    : { value: sample.highWaterBuffers, at: sample.highWaterBuffersAt };
const tenantMark = (sample: BufferSample): Mark | null =>
  sample.highWaterTenant === undefined
    ? null
    : {
        value: sample.highWaterTenant.bytes,
        at: sample.highWaterTenant.at,
        tenant: sample.highWaterTenant.tenant,
      };

const againstBound = (mark: Mark | null, bound: number) =>
  mark === null ? null : { ...mark, bound, ofBound: share(mark.value, bound) };

/** Memory events of services other than the buffer, counted per service. */
function othersMemory(events: readonly MemoryEvent[]): Array<{ service: string; events: number }> {
  const counts = new Map<string, number>();
  for (const event of events) counts.set(event.service, (counts.get(event.service) ?? 0) + 1);
  return [...counts].map(([service, events]) => ({ service, events }));
}

/** A target's bounds: each bounded service's memory, and the backlog measured from outside. */
function checkTargetBounds(
  target: TargetBounds,
  memoryEvents: readonly MemoryEvent[],
  startedAt: number | undefined,
): InvariantResult {
  const name = "bounded-buffer";
  const evidence = { memory: target.memory, backlog: target.backlog, memoryEvents };
  const breaches: string[] = [];
  const unread: string[] = [];
  for (const bound of target.memory) {
    if (bound.peakMb === null) unread.push(bound.service);
    else if (bound.peakMb > bound.boundMb)
      breaches.push(
        `${bound.service} used ${count(Math.round(bound.peakMb))} MB, ${(bound.peakMb / bound.boundMb).toFixed(1)}× its ${count(bound.boundMb)} MB bound, at ${when(bound.at!, startedAt)}`,
      );
  }
  for (const event of memoryEvents)
    breaches.push(
      `${event.service} was killed by a ${count(event.capMb)} MB memory cap at ${when(event.at, startedAt)}`,
    );
  const { backlog } = target;
  if (backlog.boundEvents !== null && backlog.peakEvents > backlog.boundEvents)
    breaches.push(
      `the backlog reached ${count(backlog.peakEvents)} events, ${(backlog.peakEvents / backlog.boundEvents).toFixed(1)}× the bound of ${count(backlog.boundEvents)}, at ${when(backlog.at!, startedAt)}`,
    );
  if (breaches.length > 0)
    return { name, status: "violated", summary: breaches.join("; "), evidence };
  if (target.memory.length === 0 && backlog.boundEvents === null)
    return {
      name,
      status: "unknown",
      summary:
        "the target declares no bound: no service has memoryMbMax and bounds.backlogEventsMax is unset",
      evidence,
    };
  if (unread.length > 0 || backlog.readings === 0)
    return {
      name,
      status: "unknown",
      summary:
        unread.length > 0
          ? `the memory of ${unread.join(", ")} was never read`
          : "the backlog was never read",
      evidence,
    };
  const parts = target.memory.map(
    (bound) =>
      `${bound.service} peak ${count(Math.round(bound.peakMb!))} of ${count(bound.boundMb)} MB`,
  );
  if (backlog.boundEvents !== null)
    parts.push(`backlog peak ${count(backlog.peakEvents)} of ${count(backlog.boundEvents)} events`);
  return { name, status: "held", summary: parts.join(", "), evidence };
}

export function checkBoundedBuffer(observations: Observations): InvariantResult {
  if (observations.target !== undefined)
    return checkTargetBounds(
      observations.target,
      observations.memoryExceeded,
      observations.startedAt,
    );
  const { samples, bounds, service } = observations.buffer;
  const startedAt = observations.startedAt;
  const name = "bounded-buffer";
  const memoryOfBuffer = observations.memoryExceeded.filter((event) => event.service === service);
  const others = othersMemory(
    observations.memoryExceeded.filter((event) => event.service !== service),
  );
  const peakBytes = highWater(samples, bytesMark);
  const peakBuffers = highWater(samples, buffersMark);
  const peakTenant = highWater(samples, tenantMark);
  const evidence = {
    samples: samples.length,
    highWaterBytes: againstBound(peakBytes, bounds.maxBufferBytes),
    highWaterBuffers: againstBound(peakBuffers, bounds.maxBuffers),
    highWaterTenantBytes: againstBound(peakTenant, bounds.maxTenantBytes),
    memory: {
      boundMb: bounds.maxMemoryMb,
      exceeded: memoryOfBuffer.length,
      firstExceeded: memoryOfBuffer.slice(0, MEMORY_EVENTS_LIMIT),
      ...(others.length > 0 ? { otherServices: others } : {}),
    },
  };

  const breaches: string[] = [];
  if (peakBytes !== null && peakBytes.value > bounds.maxBufferBytes) {
    breaches.push(
      `buffered bytes reached ${bytes(peakBytes.value)}, ${(peakBytes.value / bounds.maxBufferBytes).toFixed(1)}× the ${bytes(bounds.maxBufferBytes)} bound, at ${when(peakBytes.at, startedAt)}`,
    );
  }
  if (peakBuffers !== null && peakBuffers.value > bounds.maxBuffers) {
    breaches.push(
      `${count(peakBuffers.value)} buffers at ${when(peakBuffers.at, startedAt)}, over the bound of ${count(bounds.maxBuffers)}`,
    );
  }
  if (peakTenant !== null && peakTenant.value > bounds.maxTenantBytes) {
    breaches.push(
      `tenant ${peakTenant.tenant ?? "?"} held ${bytes(peakTenant.value)}, ${(peakTenant.value / bounds.maxTenantBytes).toFixed(1)}× the ${bytes(bounds.maxTenantBytes)} per-tenant bound, at ${when(peakTenant.at, startedAt)}`,
    );
  }
  const firstMemory = memoryOfBuffer[0];
  if (firstMemory !== undefined) {
    breaches.push(
      `the buffer process exceeded its memory ${plural(memoryOfBuffer.length, "time")} (first: ${count(firstMemory.rssMb)} MB RSS over a ${count(firstMemory.capMb)} MB cap at ${when(firstMemory.at, startedAt)})`,
    );
  }
  if (breaches.length > 0) {
    return { name, status: "violated", summary: breaches.join("; "), evidence };
  }

  const othersNote =
    others.length === 0
      ? ""
      : `; memory events of other services, not the buffer's: ${others.map((other) => `${other.service} ${other.events}`).join(", ")}`;
  if (peakBytes === null || peakTenant === null) {
    return {
      name,
      status: "unknown",
      summary:
        (peakBytes === null
          ? "no reading of the buffer's /stats was taken: its high-water marks (bytes, buffers, bytes per tenant) are unknown"
          : "the buffer's /stats did not report its per-tenant high-water mark: whether a tenant went over its bound is unknown") +
        othersNote,
      evidence,
    };
  }
  // Held: every mark was read (a sample gives bytes and buffers) and within its bound.
  const summary =
    `high water ${bytes(peakBytes.value)} of ${bytes(bounds.maxBufferBytes)} (${percent(share(peakBytes.value, bounds.maxBufferBytes))}) at ${when(peakBytes.at, startedAt)}` +
    `, ${count(peakBuffers!.value)} of ${count(bounds.maxBuffers)} buffers` +
    `, fullest tenant ${peakTenant.tenant ?? "none"} ${bytes(peakTenant.value)} of ${bytes(bounds.maxTenantBytes)} (${percent(share(peakTenant.value, bounds.maxTenantBytes))})` +
    `; no memory event of the buffer over ${plural(samples.length, "reading")}` +
    (samples.length > 1
      ? ` across ${duration(samples[samples.length - 1]!.at - samples[0]!.at)}`
      : "") +
    othersNote;
  return { name, status: "held", summary, evidence };
}
