// The file recorder (docs/targets.md, "Egress"): tails a file a pipeline writes, from its start,
// line by line, and scans each line for identity tokens. It survives rotation both ways logrotate
// does it: rename (a new inode appears at the path: the old file is read on, since a writer keeps
// writing to it until it reopens, and is let go once it has been quiet for `rotateWaitMs`) and
// copytruncate (the file shrinks below what was read: it is read again from its start; lines
// written between the last read and the copy are in the copy only, which no tailer can see).
// Each record stores the inode and the offset of the last whole line read, so a restarted
// recorder resumes there rather than recording the file twice (a file rotated away while the
// recorder was down is out of its sight: it starts on the new file).

import { watch, type FSWatcher } from "node:fs";
import { open, stat, type FileHandle } from "node:fs/promises";
import path from "node:path";
import { scanTokens, type ScannedEvents } from "../identity.ts";
import { emptyArrivals } from "./record-log.ts";
import type { Receiver, ReceiverContext } from "./receiver.ts";

export interface FileLimits {
  /** The fallback poll when no change notification comes (fs.watch misses some). */
  pollMs: number;
  /** A rotated-away file is let go after this long without growing. */
  rotateWaitMs: number;
  /** Bytes read at once; each read's lines become durable before the next read. */
  readChunkBytes: number;
  /** A line longer than this is scanned as it is and cut there. */
  maxLineBytes: number;
}

export const DEFAULT_FILE_LIMITS: Readonly<FileLimits> = Object.freeze({
  pollMs: 100,
  rotateWaitMs: 2_000,
  readChunkBytes: 1024 * 1024,
  maxLineBytes: 1024 * 1024,
});

/** Where tailing resumes: the file (device and inode) and the offset after its last whole line. */
interface FilePosition {
  dev: number;
  ino: number;
  offset: number;
}

function isFilePosition(value: unknown): value is FilePosition {
  if (typeof value !== "object" || value === null) return false;
  const { dev, ino, offset } = value as Record<string, unknown>;
  return [dev, ino, offset].every((field) => typeof field === "number");
}

const LF = 0x0a;

/** One open file being read: what is read of it, and the partial line at its end. */
class TailedFile {
  readonly dev: number;
  readonly ino: number;
  private readonly handle: FileHandle;
  /** Offset of the next byte to read. */
  private readOffset: number;
  private partialLine: Buffer = Buffer.alloc(0);
  quietSince: number;

  constructor(
    handle: FileHandle,
    identity: { dev: number; ino: number },
    offset: number,
    now: number,
  ) {
    this.handle = handle;
    this.dev = identity.dev;
    this.ino = identity.ino;
    this.readOffset = offset;
    this.quietSince = now;
  }

  /** Where a restart resumes: after the last whole line. */
  position(): FilePosition {
    return { dev: this.dev, ino: this.ino, offset: this.readOffset - this.partialLine.length };
  }

  /** The file is shorter than what was read of it: it was truncated, so read it from the start. */
  async restartIfTruncated(): Promise<boolean> {
    const { size } = await this.handle.stat();
    if (size >= this.readOffset) return false;
    this.readOffset = 0;
    this.partialLine = Buffer.alloc(0);
    return true;
  }

  /** Reads one chunk; the whole lines in it are scanned into `arrivals`. Resolves the bytes read. */
  async read(buffer: Buffer, maxLineBytes: number, arrivals: ScannedEvents): Promise<number> {
    const { bytesRead } = await this.handle.read(buffer, 0, buffer.length, this.readOffset);
    if (bytesRead === 0) return 0;
    this.readOffset += bytesRead;
    const chunk = buffer.subarray(0, bytesRead);
    const data = this.partialLine.length === 0 ? chunk : Buffer.concat([this.partialLine, chunk]);
    const lastLf = data.lastIndexOf(LF);
    if (lastLf >= 0) scanTokens(data.toString("utf8", 0, lastLf), arrivals);
    const rest = data.subarray(lastLf + 1);
    if (rest.length > maxLineBytes) {
      scanTokens(rest.toString("utf8"), arrivals);
      this.partialLine = Buffer.alloc(0);
    } else {
      // A copy: `buffer` is reused by the next read.
      this.partialLine = Buffer.from(rest);
    }
    return bytesRead;
  }

  /** The file is let go: its last line, even without LF, is scanned. */
  async close(arrivals: ScannedEvents): Promise<void> {
    scanTokens(this.partialLine.toString("utf8"), arrivals);
    this.partialLine = Buffer.alloc(0);
    await this.handle.close();
  }
}

/** The device and inode of the file at the path now, or null when there is none. */
async function identityAt(filePath: string): Promise<{ dev: number; ino: number } | null> {
  try {
    const { dev, ino } = await stat(filePath);
    return { dev, ino };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw error;
  }
}

export function fileReceiver(
  context: ReceiverContext,
  options: { path: string; limits?: FileLimits },
): Receiver {
  const { records, clock, log } = context;
  const limits = options.limits ?? DEFAULT_FILE_LIMITS;
  const filePath = path.resolve(options.path);
  const buffer = Buffer.alloc(limits.readChunkBytes);
  let resumeAt: FilePosition | undefined = isFilePosition(context.resumeAt)
    ? context.resumeAt
    : undefined;
  let current: TailedFile | undefined;
  /** Files rotated away from the path, read on until quiet. */
  const rotated: TailedFile[] = [];
  let timer: NodeJS.Timeout | undefined;
  let watcher: FSWatcher | undefined;
  let polling: Promise<void> | undefined;
  let pollAgain = false;
  let closed = false;
  let lastProblem = "";

  /** Reads `file` to its end, each chunk durable before the next; resolves whether it grew. */
  async function drain(file: TailedFile, isCurrent: boolean): Promise<boolean> {
    let grew = false;
    for (;;) {
      const arrivals = emptyArrivals();
      const bytesRead = await file.read(buffer, limits.maxLineBytes, arrivals);
      if (bytesRead === 0) return grew;
      grew = true;
      file.quietSince = clock.now();
      await records.add(arrivals, isCurrent ? file.position() : undefined);
    }
  }

  /** Opens the file at the path: where the last run stopped if it is that file, else at 0. */
  async function openCurrent(): Promise<TailedFile> {
    const handle = await open(filePath, "r");
    const opened = await handle.stat();
    // Resume only in the same file, and only if it was not truncated while no one watched.
    const resume =
      resumeAt !== undefined &&
      resumeAt.dev === opened.dev &&
      resumeAt.ino === opened.ino &&
      resumeAt.offset <= opened.size
        ? resumeAt.offset
        : 0;
    resumeAt = undefined;
    log.info("tailing", { path: filePath, ino: opened.ino, offset: resume });
    return new TailedFile(handle, opened, resume, clock.now());
  }

  async function poll(): Promise<void> {
    if (current !== undefined) {
      if (await current.restartIfTruncated())
        log.info("file truncated, reading from its start", { path: filePath });
      await drain(current, true);
    }
    for (const file of [...rotated]) {
      if (!(await drain(file, false)) && clock.now() - file.quietSince >= limits.rotateWaitMs) {
        rotated.splice(rotated.indexOf(file), 1);
        const arrivals = emptyArrivals();
        await file.close(arrivals);
        await records.add(arrivals);
        log.info("let go of a rotated file", { ino: file.ino });
      }
    }
    const atPath = await identityAt(filePath);
    if (atPath === null) return;
    if (current !== undefined && current.dev === atPath.dev && current.ino === atPath.ino) return;
    if (current !== undefined) {
      log.info("file rotated", { path: filePath, from: current.ino, to: atPath.ino });
      rotated.push(current);
      current = undefined;
    }
    current = await openCurrent();
    await drain(current, true);
  }

  function schedulePoll(): void {
    if (closed) return;
    if (polling !== undefined) {
      pollAgain = true;
      return;
    }
    polling = (async () => {
      do {
        pollAgain = false;
        try {
          await poll();
          lastProblem = "";
        } catch (error) {
          const problem = String(error);
          // Once per distinct problem, not once per poll.
          if (problem !== lastProblem)
            log.warn("cannot read the tailed file", { path: filePath, error: problem });
          lastProblem = problem;
        }
      } while (pollAgain && !closed);
      polling = undefined;
    })();
  }

  return {
    async start() {
      timer = setInterval(schedulePoll, limits.pollMs);
      try {
        watcher = watch(path.dirname(filePath), schedulePoll);
        watcher.on("error", () => watcher?.close());
      } catch {
        // No directory yet: the interval polls until the file appears.
      }
      schedulePoll();
    },
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      watcher?.close();
      await polling;
      // The current file's partial line stays unread: a restart resumes before it.
      const arrivals = emptyArrivals();
      for (const file of rotated.splice(0)) await file.close(arrivals);
      await current?.close(emptyArrivals());
      await records.add(arrivals).catch(() => {});
      await records.settled();
    },
    health: () => ({ path: filePath, tailing: current?.ino ?? null, rotated: rotated.length }),
  };
}
