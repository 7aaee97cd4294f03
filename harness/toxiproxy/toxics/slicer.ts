// slicer: cuts each chunk into pieces of average_size ± size_variation bytes and waits `delay`
// µs after each piece, so readers see the same bytes in more, smaller reads.
import type { Timer } from "../../../pipeline/core/seam.ts";
import { Fifo } from "../fifo.ts";
import { registerToxic, type Chunk } from "../toxic.ts";

registerToxic({
  type: "slicer",
  attributes: ["average_size", "size_variation", "delay"],
  // Toxiproxy loops or panics on these (rand.Intn(0), empty slices), so they are refused.
  validate({ average_size, size_variation }) {
    if (average_size < 1) return `average_size must be at least 1, got ${average_size}`;
    if (size_variation >= average_size) {
      return `size_variation must be less than average_size (${average_size}), got ${size_variation}`;
    }
    return undefined;
  },
  start({ average_size, size_variation, delay }, stub) {
    const pieces = new Fifo<Chunk>();
    let timer: Timer | undefined;
    let ending = false;

    const pieceSize = (): number =>
      average_size + Math.floor(stub.random() * (2 * size_variation + 1)) - size_variation;

    const cut = (chunk: Chunk): void => {
      let offset = 0;
      while (chunk.data.length - offset > average_size + size_variation) {
        const size = pieceSize();
        pieces.push({ data: chunk.data.subarray(offset, offset + size), readAt: chunk.readAt });
        offset += size;
      }
      pieces.push({ data: chunk.data.subarray(offset), readAt: chunk.readAt });
    };

    const sendNext = (): void => {
      timer = undefined;
      for (let piece = pieces.shift(); piece !== undefined; piece = pieces.shift()) {
        stub.forward(piece);
        if (delay > 0) {
          timer = stub.after(delay / 1000, sendNext);
          return;
        }
      }
      if (ending) stub.end();
    };

    return {
      receive(chunk) {
        cut(chunk);
        if (timer === undefined) sendNext();
      },
      end() {
        ending = true;
        if (timer === undefined) sendNext();
      },
      stop: () => pieces.drain(),
    };
  },
});
