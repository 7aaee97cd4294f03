// bounded-buffer (docs/architecture.md §5): the buffer's exact high-water marks (bytes held across
// all buffers, and the number of buffers) stay within the profile's bounds, and its process stays
// within its memory. The marks are the maxima over every /stats reading of the run: each
// incarnation of the buffer reports its own since it started, so a restart does not hide one.

import { bytes, count, duration, percent, plural, share, when } from "./format.ts";
import type { BufferSample, InvariantResult, Observations } from "./types.ts";

const MEMORY_EVENTS_LIMIT = 10;

interface Mark {
  value: number;
  at: number;
}

/** The highest reading, the earliest when several tie; null without samples. */
function highWater(
  samples: readonly BufferSample[],
  read: (sample: BufferSample) => Mark,
): Mark | null {
  let best: Mark | null = null;
  for (const sample of samples) {
    const mark = read(sample);
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

export function checkBoundedBuffer(observations: Observations): InvariantResult {
  const { samples, bounds, memoryExceeded } = observations.buffer;
  const startedAt = observations.startedAt;
  const name = "bounded-buffer";
  const peakBytes = highWater(samples, bytesMark);
  const peakBuffers = highWater(samples, buffersMark);
  const evidence = {
    samples: samples.length,
    highWaterBytes:
      peakBytes === null
        ? null
        : {
            ...peakBytes,
            bound: bounds.maxBufferBytes,
            ofBound: share(peakBytes.value, bounds.maxBufferBytes),
          },
    highWaterBuffers:
      peakBuffers === null
        ? null
        : {
            ...peakBuffers,
            bound: bounds.maxBuffers,
            ofBound: share(peakBuffers.value, bounds.maxBuffers),
          },
    memory: {
      boundMb: bounds.maxMemoryMb,
      exceeded: memoryExceeded.length,
      firstExceeded: memoryExceeded.slice(0, MEMORY_EVENTS_LIMIT),
    },
  };
  if (peakBytes === null && memoryExceeded.length === 0) {
    return {
      name,
      status: "unknown",
      summary:
        "no reading of the buffer's /stats was taken and no memory event was seen: its high-water marks are unknown",
      evidence,
    };
  }

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
  const firstMemory = memoryExceeded[0];
  if (firstMemory !== undefined) {
    breaches.push(
      `the buffer process exceeded its memory ${plural(memoryExceeded.length, "time")} (first: ${count(firstMemory.rssMb)} MB RSS over a ${count(firstMemory.capMb)} MB cap at ${when(firstMemory.at, startedAt)})`,
    );
  }
  if (breaches.length > 0) {
    return { name, status: "violated", summary: breaches.join("; "), evidence };
  }
  // Held: both marks were read (a sample gives both) and within their bounds.
  const summary =
    `high water ${bytes(peakBytes!.value)} of ${bytes(bounds.maxBufferBytes)} (${percent(share(peakBytes!.value, bounds.maxBufferBytes))}) at ${when(peakBytes!.at, startedAt)}` +
    ` and ${count(peakBuffers!.value)} of ${count(bounds.maxBuffers)} buffers; no memory event over ${plural(samples.length, "reading")}` +
    (samples.length > 1
      ? ` across ${duration(samples[samples.length - 1]!.at - samples[0]!.at)}`
      : "");
  return { name, status: "held", summary, evidence };
}
