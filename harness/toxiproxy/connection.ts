// One proxied TCP connection: the client's socket, the socket dialled to the upstream, and one
// link per direction. The upstream is dialled only when a client connects (as Toxiproxy does);
// when it cannot be reached the client's connection is closed at once.
import type { Socket } from "node:net";
import type { Timer } from "../../pipeline/core/seam.ts";
import { splitHostPort } from "./address.ts";
import type { ToxiproxyLimits } from "./limits.ts";
import { Link, type LinkEnv } from "./link.ts";
import { adoptAccepted, readingSocket, SocketReader } from "./reader.ts";
import type { ToxicCollection } from "./toxic-collection.ts";

export class Connection {
  /** Resolves once both sockets are closed and every toxic on the connection is stopped. */
  readonly closed: Promise<void>;
  private readonly client: Socket;
  private readonly upstream: Socket;
  private readonly toxics: ToxicCollection;
  private readonly env: LinkEnv;
  private readonly clientReader: SocketReader;
  private readonly upstreamReader: SocketReader;
  private links: Link[] = [];
  private openSockets = 2;
  private closing = false;
  private markClosed: () => void = () => {};

  /** `accepted` comes from a server with pauseOnConnect: it has read nothing yet. */
  constructor(accepted: Socket, upstreamAddress: string, toxics: ToxicCollection, env: LinkEnv) {
    this.clientReader = new SocketReader(env.limits.readBufferBytes, env.busyPoll);
    this.upstreamReader = new SocketReader(env.limits.readBufferBytes, env.busyPoll);
    this.client = adoptAccepted(accepted, this.clientReader);
    this.toxics = toxics;
    this.env = env;
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
    this.upstream = dial(upstreamAddress, this.upstreamReader, env.limits);
    for (const socket of [this.client, this.upstream]) {
      // Failures surface as 'close'; without a listener an 'error' would crash the process.
      socket.on("error", () => {});
      socket.once("close", () => this.socketClosed(socket));
    }
    this.upstream.once("connect", () => this.startLinks());
  }

  /** Drops the connection at once (proxy disabled, removed or restarted). */
  destroy(): void {
    this.closing = true;
    this.stopLinks();
    this.client.destroy();
    this.upstream.destroy();
  }

  private startLinks(): void {
    if (this.closing) return;
    this.upstream.setTimeout(0);
    const onToxicEnd = (kind: "close" | "reset"): void => {
      if (kind === "reset") this.reset();
      else this.close();
    };
    this.links = [
      new Link(
        {
          direction: "upstream",
          source: this.client,
          destination: this.upstream,
          env: this.env,
          onToxicEnd,
        },
        this.toxics.forDirection("upstream"),
      ),
      new Link(
        {
          direction: "downstream",
          source: this.upstream,
          destination: this.client,
          env: this.env,
          onToxicEnd,
        },
        this.toxics.forDirection("downstream"),
      ),
    ];
    const [upstreamward, downstreamward] = this.links as [Link, Link];
    this.clientReader.attach((view) => upstreamward.read(view));
    this.upstreamReader.attach((view) => downstreamward.read(view));
    for (const link of this.links) this.toxics.attach(link);
    this.client.resume();
  }

  /** A toxic closed the stream: each socket gets what was already written, then a FIN, then goes. */
  private close(): void {
    if (this.closing) return;
    this.closing = true;
    this.stopLinks();
    for (const socket of [this.client, this.upstream]) this.closeAfterFlush(socket);
  }

  /** A toxic reset the stream: both sockets close with a TCP RST. */
  private reset(): void {
    if (this.closing) return;
    this.closing = true;
    this.stopLinks();
    for (const socket of [this.client, this.upstream]) {
      if (!socket.destroyed) socket.resetAndDestroy();
    }
  }

  private closeAfterFlush(socket: Socket): void {
    if (socket.destroyed) return;
    if (socket.writableFinished) {
      socket.destroy();
      return;
    }
    const deadline: Timer = this.env.clock.schedule(this.env.limits.closeFlushMs, () =>
      socket.destroy(),
    );
    socket.once("close", () => deadline.cancel());
    socket.once("finish", () => socket.destroy());
    socket.end();
  }

  private socketClosed(socket: Socket): void {
    this.openSockets -= 1;
    const [fromSocket, toSocket] = socket === this.client ? [0, 1] : [1, 0];
    const from = this.links[fromSocket];
    const to = this.links[toSocket];
    if (from === undefined || to === undefined) {
      // Not linked yet: the upstream could not be dialled, or the client left while dialling.
      this.destroy();
    } else {
      // What the toxics still hold from this socket goes on to the other, then a close.
      from.endSource("close");
      to.stop();
    }
    if (this.openSockets === 0) {
      this.stopLinks();
      for (const link of this.links) this.toxics.detach(link);
      this.markClosed();
    }
  }

  private stopLinks(): void {
    for (const link of this.links) link.stop();
  }
}

function dial(address: string, reader: SocketReader, limits: ToxiproxyLimits): Socket {
  let target: { host: string; port: number };
  try {
    target = splitHostPort(address);
  } catch {
    target = { host: "", port: 0 };
  }
  const socket = readingSocket(reader);
  socket.connect({ host: target.host === "" ? "localhost" : target.host, port: target.port });
  socket.setTimeout(limits.upstreamConnectTimeoutMs, () => socket.destroy());
  return socket;
}
