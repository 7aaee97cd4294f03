// A link is one direction of one proxied connection: source socket → the proxy's toxics for
// that direction, in the order they were added → destination socket (after Toxiproxy's
// link.go). With no toxics a read goes straight from source to destination: the fast path
// (docs/toxiproxy.md, "The fast path"), left for the chain on the first read after a toxic is
// added and taken again on the first read after the last one is removed.
import assert from "node:assert/strict";
import type { Socket } from "node:net";
import type { Clock, Rng } from "../../pipeline/core/seam.ts";
import type { BusyPoll } from "./busy-poll.ts";
import type { ToxiproxyLimits } from "./limits.ts";
import type { Chunk, Direction, EndKind, ToxicPipe } from "./toxic.ts";
import type { ConfiguredToxic } from "./toxic-collection.ts";
import { RunningStub, type StubOutput } from "./toxic-stub.ts";

export interface LinkEnv {
  clock: Clock;
  rng: Rng;
  limits: ToxiproxyLimits;
  /** Polling after reads (busy-poll.ts); none when absent. */
  busyPoll?: BusyPoll;
}

/** Where a stage of the chain sends its output: the next toxic or the destination. */
interface Receiver {
  receive(chunk: Chunk): void;
  end(kind: EndKind): void;
}

export interface LinkOptions {
  direction: Direction;
  source: Socket;
  destination: Socket;
  env: LinkEnv;
  /** A toxic ended the stream with a close or a reset: the connection must go. */
  onToxicEnd(kind: "close" | "reset"): void;
}

export class Link {
  readonly direction: Direction;
  readonly source: Socket;
  readonly destination: Socket;
  readonly env: LinkEnv;
  private readonly onToxicEnd: (kind: "close" | "reset") => void;
  private readonly slots: ToxicSlot[] = [];
  private readonly sink: Receiver;
  /** Bytes read from the source and not yet written to the destination or dropped. */
  private heldBytes = 0;
  private pausedByLink = false;
  private sourceEnded = false;
  /** The end reached the destination, or the link was stopped: nothing more flows. */
  private finished = false;
  /** Called when each write has been handed to the kernel: one function for every write. */
  private readonly written = (): void => this.resumeIfRoom();

  constructor(options: LinkOptions, toxics: readonly ConfiguredToxic[]) {
    this.direction = options.direction;
    this.source = options.source;
    this.destination = options.destination;
    this.env = options.env;
    this.onToxicEnd = options.onToxicEnd;
    this.sink = { receive: (chunk) => this.deliver(chunk), end: (kind) => this.finish(kind) };
    for (const toxic of toxics) this.addToxic(toxic);
    this.source.on("end", () => this.endSource("end"));
  }

  /** The source is gone: `end` after a FIN, `close` when it closed or failed without one. */
  endSource(kind: EndKind): void {
    if (this.sourceEnded || this.finished) return;
    this.sourceEnded = true;
    this.entry().end(kind);
  }

  addToxic(toxic: ConfiguredToxic): void {
    if (this.finished) return;
    const slot = new ToxicSlot(toxic, this, this.sink);
    const last = this.slots.at(-1);
    if (last !== undefined) last.next = slot;
    this.slots.push(slot);
    slot.start();
  }

  updateToxic(toxic: ConfiguredToxic): void {
    this.slots.find((slot) => slot.toxic.name === toxic.name)?.update(toxic);
  }

  removeToxic(name: string): void {
    const index = this.slots.findIndex((slot) => slot.toxic.name === name);
    const slot = this.slots[index];
    if (slot === undefined) return;
    this.slots.splice(index, 1);
    const previous = this.slots[index - 1];
    if (previous !== undefined) previous.next = slot.next;
    slot.remove();
  }

  /** Stops every toxic and drops what they hold; nothing flows afterwards. */
  stop(): void {
    this.finished = true;
    for (const slot of this.slots) slot.stop();
  }

  /** Accounts for bytes a toxic dropped. */
  discard(chunk: Chunk): void {
    this.release(chunk.data.length);
  }

  private entry(): Receiver {
    return this.slots[0] ?? this.sink;
  }

  /** One read from the source: a view of the source's read buffer, reused after this call. */
  read(view: Buffer): void {
    if (this.finished) return;
    const first = this.slots[0];
    if (first === undefined) {
      // The fast path: straight on, no copy, no clock. The write either completes now or pauses
      // the source, so the read buffer is not refilled while the write still uses it.
      this.write(view);
      return;
    }
    // Toxics may hold a chunk past this read, and the read buffer is reused: they get a copy.
    const data = Buffer.from(view);
    this.heldBytes += data.length;
    first.receive({ data, readAt: this.env.clock.now() });
    if (this.heldBytes > this.env.limits.linkHeldBytes) this.pauseSource();
  }

  private deliver(chunk: Chunk): void {
    this.release(chunk.data.length);
    if (!this.finished) this.write(chunk.data);
  }

  private write(data: Buffer): void {
    this.destination.write(data, this.written);
    // Not all taken by the kernel: read no more until the pending writes have been (`written`),
    // since a write on the fast path still uses the source's read buffer (reader.ts).
    if (this.destination.writableLength > 0) this.pauseSource();
  }

  private release(bytes: number): void {
    this.heldBytes -= bytes;
    // Checked before building the message: this runs for every chunk through the toxics.
    if (this.heldBytes < 0) assert.fail(`link ${this.direction} released more bytes than it held`);
    this.resumeIfRoom();
  }

  private pauseSource(): void {
    if (this.pausedByLink) return;
    this.pausedByLink = true;
    this.source.pause();
  }

  private resumeIfRoom(): void {
    if (!this.pausedByLink || this.finished) return;
    if (this.heldBytes > this.env.limits.linkHeldBytes / 2) return;
    if (this.destination.writableLength > 0) return;
    this.pausedByLink = false;
    this.source.resume();
  }

  private finish(kind: EndKind): void {
    if (this.finished) return;
    this.finished = true;
    if (kind === "end") this.destination.end();
    else this.onToxicEnd(kind);
  }
}

/** One toxic of the chain on one link: runs it, or lets data by when its toxicity roll failed. */
class ToxicSlot implements Receiver, StubOutput {
  toxic: ConfiguredToxic;
  next: Receiver;
  private readonly link: Link;
  private readonly state: unknown;
  private pipe: ToxicPipe | undefined;
  private stub: RunningStub | undefined;
  private inputEnd: EndKind | undefined;
  private outputEnded = false;

  constructor(toxic: ConfiguredToxic, link: Link, next: Receiver) {
    this.toxic = toxic;
    this.link = link;
    this.next = next;
    this.state = toxic.type.newState?.();
  }

  /** Rolls the toxicity for this link and starts the toxic when the roll says so. */
  start(): void {
    const { env } = this.link;
    if (env.rng.next() >= this.toxic.toxicity) return;
    this.stub = new RunningStub(this, env.clock, env.rng);
    this.pipe = this.toxic.type.start(this.toxic.attributes, this.stub, this.state);
  }

  receive(chunk: Chunk): void {
    if (this.inputEnd !== undefined || this.outputEnded) this.link.discard(chunk);
    else this.intoToxic(chunk);
  }

  end(kind: EndKind): void {
    if (this.inputEnd !== undefined) return;
    this.inputEnd = kind;
    if (this.pipe !== undefined) this.pipe.end();
    else this.passEnd(kind);
  }

  forward(chunk: Chunk): void {
    if (this.outputEnded) this.link.discard(chunk);
    else this.next.receive(chunk);
  }

  passReceivedEnd(): void {
    this.passEnd(this.inputEnd ?? "end");
  }

  passEnd(kind: EndKind): void {
    if (this.outputEnded) return;
    this.outputEnded = true;
    this.next.end(kind);
  }

  discard(chunk: Chunk): void {
    this.link.discard(chunk);
  }

  /** Restarts the toxic with new settings (and a new roll), handing it what the old run held. */
  update(toxic: ConfiguredToxic): void {
    this.toxic = toxic;
    if (this.outputEnded) return;
    const held = this.stopRun();
    this.start();
    for (const chunk of held) this.intoToxic(chunk);
    if (this.inputEnd !== undefined) {
      if (this.pipe !== undefined) this.pipe.end();
      else this.passEnd(this.inputEnd);
    }
  }

  /** Taken out of the chain: flushes what it held, or closes the connection (timeout). */
  remove(): void {
    const wasRunning = this.pipe !== undefined;
    const held = this.stopRun();
    if (this.outputEnded || (wasRunning && this.toxic.type.closesOnRemoval === true)) {
      for (const chunk of held) this.link.discard(chunk);
      this.passEnd("close");
      return;
    }
    for (const chunk of held) this.next.receive(chunk);
    if (this.inputEnd !== undefined) this.passEnd(this.inputEnd);
  }

  stop(): void {
    for (const chunk of this.stopRun()) this.link.discard(chunk);
  }

  private intoToxic(chunk: Chunk): void {
    if (this.pipe !== undefined) this.pipe.receive(chunk);
    else this.forward(chunk);
  }

  private stopRun(): Chunk[] {
    this.stub?.deactivate();
    const held = this.pipe?.stop() ?? [];
    this.pipe = undefined;
    this.stub = undefined;
    return held;
  }
}
