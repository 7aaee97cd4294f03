// How the proxy reads its sockets (docs/toxiproxy.md, "The fast path"): each proxied socket reads
// into one buffer that is reused from read to read (Node's `onread`), instead of a new 64 KiB
// Buffer per read pushed through a Readable stream. The buffer starts at 64 KiB and grows to
// limits.readBufferBytes the first time a read fills it: larger reads mean fewer system calls and
// events per byte in bulk, while a connection that only ever carries small messages never holds
// the large one. The link that consumes a read either writes it on at once or copies it (link.ts).
// While a write to the other socket is pending (the read buffer is still in use then), the link
// pauses its source and resumes from the write's own callback (link.ts).
import { Socket, type OnReadOpts } from "node:net";
import type { BusyPoll } from "./busy-poll.ts";

/** Node's net.Socket keeps its libuv handle here; it is not part of the typed API. */
interface WithHandle {
  _handle: object | null;
}

const FIRST_READ_BUFFER_BYTES = 64 * 1024;

export class SocketReader {
  private buffer: Buffer;
  private readonly readBufferBytes: number;
  /** Where each read goes: a view of the shared buffer, valid until the next read. */
  private consume: ((view: Buffer) => void) | undefined;

  private readonly busyPoll: BusyPoll | undefined;

  constructor(readBufferBytes: number, busyPoll?: BusyPoll) {
    this.readBufferBytes = readBufferBytes;
    this.busyPoll = busyPoll;
    this.buffer = Buffer.allocUnsafe(Math.min(FIRST_READ_BUFFER_BYTES, readBufferBytes));
  }

  /** The socket options that make a socket read through this reader. */
  socketOptions(): { onread: OnReadOpts; allowHalfOpen: true } {
    return {
      onread: {
        // Asked after every read for the buffer of the next one.
        buffer: () => this.buffer,
        callback: (bytes, buffer) => {
          this.deliver((buffer as Buffer).subarray(0, bytes));
          this.busyPoll?.afterRead();
          // A write may still use the old buffer (the link then pauses the source); it is
          // never read into again, so swapping is safe at any time.
          if (bytes === this.buffer.length && bytes < this.readBufferBytes) {
            this.buffer = Buffer.allocUnsafe(this.readBufferBytes);
          }
          return true;
        },
      },
      allowHalfOpen: true,
    };
  }

  attach(consume: (view: Buffer) => void): void {
    this.consume = consume;
  }

  /** Hands one read to the link; a read before the link is attached is a bug (paused until then). */
  deliver(view: Buffer): void {
    if (this.consume === undefined) {
      throw new Error("a proxied socket read data before its link was attached");
    }
    this.consume(view);
  }
}

/** A socket that will be dialled, reading through `reader`. */
export function readingSocket(reader: SocketReader): Socket {
  return new Socket({ ...reader.socketOptions(), noDelay: true });
}

/**
 * A socket the proxy's server accepted (with pauseOnConnect, so it has read nothing), moved onto
 * a new Socket that reads through `reader`: a server cannot hand out sockets with `onread`. The
 * accepted Socket object lets go of the connection and is destroyed, which also takes it off the
 * server's connection count; the proxy tracks its connections itself (proxy.ts). The move uses
 * Node's internal `_handle`; where it is not possible (a socket that has started reading, or a
 * Node that changed the internal) this throws, and the proxy refuses that connection (proxy.ts):
 * links read only through a SocketReader, so the accepted socket is not kept as a fallback.
 */
export function adoptAccepted(accepted: Socket, reader: SocketReader): Socket {
  const handle = (accepted as unknown as WithHandle)._handle;
  if (handle === null || typeof handle !== "object" || accepted.readableFlowing !== false) {
    throw new Error("adoptAccepted: the accepted socket has no handle or has started reading");
  }
  const options = { ...reader.socketOptions(), handle, pauseOnCreate: true };
  const adopted = new Socket(options as ConstructorParameters<typeof Socket>[0]);
  (accepted as unknown as WithHandle)._handle = null;
  accepted.destroy();
  adopted.setNoDelay(true);
  return adopted;
}
