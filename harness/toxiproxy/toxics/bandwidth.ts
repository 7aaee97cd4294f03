// bandwidth: paces each direction of each connection to `rate` KB/s (KB = 1000 bytes), sending
// at most 100 ms worth at a time; rate 0 stalls the stream until the toxic changes.
import type { Timer } from "../../../pipeline/core/seam.ts";
import { Fifo } from "../fifo.ts";
import { registerToxic, type Chunk } from "../toxic.ts";

/** The largest piece sent at once, in ms of the configured rate (as Toxiproxy does). */
const PIECE_MS = 100;

registerToxic({
  type: "bandwidth",
  attributes: ["rate"],
  start({ rate }, stub) {
    const queue = new Fifo<Chunk>();
    let timer: Timer | undefined;
    let ending = false;
    // When the paced stream is free to send again. While busy it runs on ideal time, so a timer
    // firing late makes the next piece earlier and the average rate holds.
    let freeAt = -Infinity;

    const sendNext = (): void => {
      timer = undefined;
      const head = queue.peek();
      if (head === undefined) {
        if (ending) stub.end();
        return;
      }
      if (rate === 0) return;
      const size = Math.min(head.data.length, rate * PIECE_MS);
      // rate KB/s is `rate` bytes per ms.
      const releaseAt = freeAt + size / rate;
      timer = stub.after(releaseAt - stub.now(), () => {
        freeAt = releaseAt;
        if (size === head.data.length) queue.shift();
        else queue.replaceHead({ data: head.data.subarray(size), readAt: head.readAt });
        stub.forward({ data: head.data.subarray(0, size), readAt: head.readAt });
        sendNext();
      });
    };

    return {
      receive(chunk) {
        queue.push(chunk);
        if (timer === undefined) {
          freeAt = Math.max(freeAt, stub.now());
          sendNext();
        }
      },
      end() {
        ending = true;
        if (timer === undefined && queue.length === 0) stub.end();
      },
      stop: () => queue.drain(),
    };
  },
});
