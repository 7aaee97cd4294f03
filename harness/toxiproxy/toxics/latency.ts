// latency: delays each chunk by latency ± jitter ms counted from when the proxy read it, keeping
// order; throughput is not capped and stacked latency toxics add up.
import type { Timer } from "../../../pipeline/core/seam.ts";
import { Fifo } from "../fifo.ts";
import { registerToxic, type Chunk } from "../toxic.ts";

interface HeldChunk {
  chunk: Chunk;
  dueAt: number;
}

registerToxic({
  type: "latency",
  attributes: ["latency", "jitter"],
  start({ latency, jitter }, stub) {
    const held = new Fifo<HeldChunk>();
    let timer: Timer | undefined;
    let ending = false;
    let lastDueAt = -Infinity;

    // Toxiproxy draws the jitter from [-jitter, +jitter).
    const delayMs = (): number =>
      jitter > 0 ? latency + Math.floor(stub.random() * 2 * jitter) - jitter : latency;

    const releaseDue = (): void => {
      timer = undefined;
      const now = stub.now();
      for (let next = held.peek(); next !== undefined && next.dueAt <= now; next = held.peek()) {
        held.shift();
        // The next latency toxic in the chain counts from here, so stacked latencies add up.
        next.chunk.readAt = now;
        stub.forward(next.chunk);
      }
      const next = held.peek();
      if (next !== undefined) timer = stub.after(next.dueAt - now, releaseDue);
      else if (ending) stub.end();
    };

    return {
      receive(chunk) {
        // Never before the previous chunk: jitter must not reorder the stream.
        lastDueAt = Math.max(chunk.readAt + delayMs(), lastDueAt);
        held.push({ chunk, dueAt: lastDueAt });
        if (timer === undefined) releaseDue();
      },
      end() {
        ending = true;
        if (timer === undefined) releaseDue();
      },
      stop: () => held.drain().map((entry) => entry.chunk),
    };
  },
});
