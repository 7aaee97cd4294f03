// RFC 6587 framing, in process: however a stream is cut into reads, the same messages come out,
// lengths count octets, and a stream that cannot be framed is refused rather than misread.

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  FramingError,
  SyslogDeframer,
  type Framing,
} from "../../../harness/target/recorders/syslog-framing.ts";

function deframe(framing: Framing, chunks: readonly Buffer[], end = false): string[] {
  const messages: string[] = [];
  const deframer = new SyslogDeframer(framing, 4096);
  for (const chunk of chunks) deframer.push(chunk, (message) => messages.push(message));
  if (end) deframer.end((message) => messages.push(message));
  return messages;
}

/** `bytes` cut at the given points. */
function cut(bytes: Buffer, points: readonly number[]): Buffer[] {
  const sorted = [...new Set(points.map((point) => point % (bytes.length + 1)))].sort(
    (a, b) => a - b,
  );
  const chunks: Buffer[] = [];
  let start = 0;
  for (const point of [...sorted, bytes.length]) {
    chunks.push(bytes.subarray(start, point));
    start = point;
  }
  return chunks;
}

// A message as a relay sends it: `<PRI>` first, no LF inside (LF framing could not carry one).
const message = fc
  .string({ unit: "grapheme", maxLength: 60 })
  .map((text) => `<13>1 ${text.replace(/[\r\n]/g, " ")}`);
const octetCounted = (text: string) => `${Buffer.byteLength(text)} ${text}`;

describe("syslog framing", () => {
  it("auto: octet-counted and LF-framed messages, mixed and cut anywhere, come out whole and in order", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(message, fc.boolean()), { maxLength: 20 }),
        fc.array(fc.nat(), { maxLength: 30 }),
        (frames, points) => {
          const stream = Buffer.from(
            frames.map(([text, counted]) => (counted ? octetCounted(text) : `${text}\n`)).join(""),
          );
          expect(deframe("auto", cut(stream, points))).toEqual(frames.map(([text]) => text));
        },
      ),
    );
  });

  it("octet-counting: a length counts bytes, and a message may hold newlines", () => {
    const first = "<13>1 café\nligne deux";
    const second = "<13>1 ünïcödé";
    const stream = Buffer.from(octetCounted(first) + octetCounted(second));
    expect(deframe("octet-counting", cut(stream, [1, 2, 3, 9, 20]))).toEqual([first, second]);
  });

  it("lf: a message starting with digits and a space is not taken for a length", () => {
    expect(deframe("lf", [Buffer.from("12 not a length\r\n<13>1 next\n")])).toEqual([
      "12 not a length",
      "<13>1 next",
    ]);
  });

  it("end: a frame cut short by the connection's end is still scanned, without its header", () => {
    const stream = Buffer.from(`${octetCounted("<13>1 whole")}40 <13>1 cut sh`);
    expect(deframe("octet-counting", [stream], true)).toEqual(["<13>1 whole", "<13>1 cut sh"]);
    expect(deframe("lf", [Buffer.from("<13>1 whole\n<13>1 no lf")], true)).toEqual([
      "<13>1 whole",
      "<13>1 no lf",
    ]);
  });

  it("octet-counting refuses a frame without a length, and any length over the bound", () => {
    expect(() => deframe("octet-counting", [Buffer.from("<13>1 no length\n")])).toThrow(
      FramingError,
    );
    expect(() => deframe("auto", [Buffer.from("5000 <13>1 ...")])).toThrow(
      "frame length 5000 is over the bound of 4096",
    );
  });
});
