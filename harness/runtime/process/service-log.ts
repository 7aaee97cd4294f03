// One service's output: the latest lines in memory (a bounded ring, for error messages and
// assertions) and every line in a file of the run directory (for a person, afterwards).

import { createWriteStream, type WriteStream } from "node:fs";
import type { Readable } from "node:stream";
import { createInterface } from "node:readline";
import type { LogLine } from "../runtime.ts";

export class ServiceLog {
  readonly path: string;
  private readonly ring: LogLine[] = [];
  private readonly capacity: number;
  private readonly maxLineChars: number;
  private readonly file: WriteStream;

  constructor(path: string, limits: { lines: number; lineChars: number }) {
    this.path = path;
    this.capacity = limits.lines;
    this.maxLineChars = limits.lineChars;
    this.file = createWriteStream(path, { flags: "a" });
    // A full disk must not crash the harness; the ring still holds the latest lines.
    this.file.on("error", () => {});
  }

  add(stream: LogLine["stream"], text: string): LogLine {
    const line: LogLine = {
      at: Date.now(),
      stream,
      text: text.length > this.maxLineChars ? `${text.slice(0, this.maxLineChars)}…` : text,
    };
    this.ring.push(line);
    if (this.ring.length > this.capacity) this.ring.shift();
    if (this.file.writable)
      this.file.write(stream === "stderr" ? `[stderr] ${text}\n` : `${text}\n`);
    return line;
  }

  /** Reads `input` line by line into this log, calling `onLine` for each. */
  follow(stream: LogLine["stream"], input: Readable, onLine?: (line: LogLine) => void): void {
    const lines = createInterface({ input, crlfDelay: Infinity });
    lines.on("line", (text) => {
      const line = this.add(stream, text);
      onLine?.(line);
    });
  }

  lines(): readonly LogLine[] {
    return [...this.ring];
  }

  /** The last `count` lines as text, for error messages. */
  tail(count: number): string {
    const tail = this.ring.slice(-count);
    if (tail.length === 0) return "  (no output)";
    return tail
      .map((line) => `  ${line.stream === "stderr" ? "[stderr] " : ""}${line.text}`)
      .join("\n");
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.file.end(resolve));
  }
}
