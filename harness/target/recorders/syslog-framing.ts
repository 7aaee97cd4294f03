// Splits a syslog TCP stream into messages (RFC 6587): octet-counting (`<length> <message>`,
// the length in bytes) or non-transparent framing (each message ends with LF). `auto` decides
// per frame, as rsyslog's imtcp does: a frame that starts with digits and a space is
// octet-counted, any other (a message starts with `<PRI>`) ends at LF.

export const FRAMINGS = ["octet-counting", "lf", "auto"] as const;
export type Framing = (typeof FRAMINGS)[number];

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
/** A length of more digits than this is no length (a frame is bounded far below 10^10 bytes). */
const MAX_LENGTH_DIGITS = 10;

const EMPTY = Buffer.alloc(0);

/** The stream cannot be framed (a length too large, or missing under octet-counting). */
export class FramingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FramingError";
  }
}

type Header = { length: number; headerBytes: number } | "lf" | "incomplete";

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= DIGIT_0 && byte <= DIGIT_9;
}

export class SyslogDeframer {
  private readonly framing: Framing;
  private readonly maxFrameBytes: number;
  private buffered: Buffer = EMPTY;

  constructor(framing: Framing, maxFrameBytes: number) {
    this.framing = framing;
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Feeds bytes; calls `onMessage` with each complete message. Throws FramingError. */
  push(chunk: Buffer, onMessage: (message: string) => void): void {
    const data = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    let start = 0;
    for (;;) {
      while (data[start] === LF || data[start] === CR) start++;
      if (start >= data.length) break;
      const header = this.headerAt(data, start);
      if (header === "incomplete") break;
      if (header === "lf") {
        const end = data.indexOf(LF, start);
        if (end === -1) {
          if (data.length - start > this.maxFrameBytes) {
            throw new FramingError(`a line is longer than ${this.maxFrameBytes} bytes`);
          }
          break;
        }
        onMessage(data.toString("utf8", start, data[end - 1] === CR ? end - 1 : end));
        start = end + 1;
        continue;
      }
      const bodyStart = start + header.headerBytes;
      if (data.length - bodyStart < header.length) break;
      onMessage(data.toString("utf8", bodyStart, bodyStart + header.length));
      start = bodyStart + header.length;
    }
    this.buffered = start >= data.length ? EMPTY : data.subarray(start);
  }

  /** The connection ended: a frame cut short is still a message (its token shows the cut). */
  end(onMessage: (message: string) => void): void {
    const rest = this.buffered;
    this.buffered = EMPTY;
    let start = 0;
    while (rest[start] === LF || rest[start] === CR) start++;
    if (start >= rest.length) return;
    let header: Header = "lf";
    try {
      header = this.headerAt(rest, start);
    } catch {
      // A malformed header of a frame cut short: its bytes are still scanned below.
    }
    const bodyStart = typeof header === "object" ? start + header.headerBytes : start;
    onMessage(rest.toString("utf8", bodyStart));
  }

  /** How the frame at `start` is framed; under octet-counting, its length. */
  private headerAt(data: Buffer, start: number): Header {
    if (this.framing === "lf") return "lf";
    let position = start;
    let length = 0;
    while (isDigit(data[position]) && position - start < MAX_LENGTH_DIGITS) {
      length = length * 10 + (data[position]! - DIGIT_0);
      position++;
    }
    const digits = position - start;
    if (position >= data.length && digits < MAX_LENGTH_DIGITS) return "incomplete";
    if (digits === 0 || data[position] !== SPACE || data[start] === DIGIT_0) {
      if (this.framing === "auto") return "lf";
      const seen = JSON.stringify(
        data.toString("latin1", start, Math.min(start + 16, data.length)),
      );
      throw new FramingError(`expected an octet count and a space, got ${seen}`);
    }
    if (length > this.maxFrameBytes) {
      throw new FramingError(`frame length ${length} is over the bound of ${this.maxFrameBytes}`);
    }
    return { length, headerBytes: digits + 1 };
  }
}
