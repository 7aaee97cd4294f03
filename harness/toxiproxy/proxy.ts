// A proxy (after Toxiproxy's proxy.go): listens on one address and, for every client that
// connects, dials the upstream and links the two through the proxy's toxics.
import { createServer, type Server, type Socket } from "node:net";
import { closeServers, listenOn } from "./address.ts";
import { Connection } from "./connection.ts";
import type { LinkEnv } from "./link.ts";
import type { ProxyChange, ProxySpec } from "./requests.ts";
import { ToxicCollection } from "./toxic-collection.ts";

export class Proxy {
  readonly name: string;
  /** The address bound (`127.0.0.1:0` becomes the real port), or as given while never bound. */
  listen: string;
  upstream: string;
  enabled = false;
  readonly toxics = new ToxicCollection();
  /** The listen address as the client gave it, which still names this proxy's address. */
  private requestedListen: string;
  private listeners: Server[] = [];
  private listenersClosed: Promise<void> = Promise.resolve();
  private readonly connections = new Set<Connection>();
  private readonly env: LinkEnv;

  constructor(spec: Omit<ProxySpec, "enabled">, env: LinkEnv) {
    this.name = spec.name;
    this.listen = spec.listen;
    this.requestedListen = spec.listen;
    this.upstream = spec.upstream;
    this.env = env;
  }

  /** Whether `listen` and `upstream` name this proxy's addresses (as given or as bound). */
  matches(listen: string, upstream: string): boolean {
    return (
      (listen === this.listen || listen === this.requestedListen) && upstream === this.upstream
    );
  }

  /** Opens the listener; when it cannot (500 ApiError) the proxy stays disabled. */
  async start(): Promise<void> {
    if (this.enabled) return;
    const bound = await listenOn(this.listen, () =>
      createServer(
        // Paused: the connection moves the socket onto its own reader first (reader.ts).
        { allowHalfOpen: true, noDelay: true, pauseOnConnect: true },
        (client) => this.accept(client),
      ),
    );
    this.listeners = bound.servers;
    this.listen = bound.address;
    this.enabled = true;
  }

  /** Closes the listener (new clients are refused) and drops every live connection. */
  stop(): void {
    if (!this.enabled) return;
    this.enabled = false;
    this.listenersClosed = closeServers(this.listeners);
    this.listeners = [];
    for (const connection of this.connections) connection.destroy();
  }

  /** A changed listen or upstream restarts the proxy; toxics are kept either way. */
  async update(change: ProxyChange): Promise<void> {
    if (!this.matches(change.listen, change.upstream)) {
      this.stop();
      this.listen = change.listen;
      this.requestedListen = change.listen;
      this.upstream = change.upstream;
    }
    if (change.enabled) await this.start();
    else this.stop();
  }

  /** Resolves once the listeners are closed and every connection is gone (after stop()). */
  async stopped(): Promise<void> {
    await this.listenersClosed;
    await Promise.all([...this.connections].map((connection) => connection.closed));
  }

  toJSON(): object {
    return {
      name: this.name,
      listen: this.listen,
      upstream: this.upstream,
      enabled: this.enabled,
      toxics: this.toxics.list(),
    };
  }

  private accept(client: Socket): void {
    let connection: Connection;
    try {
      connection = new Connection(client, this.upstream, this.toxics, this.env);
    } catch {
      // A connection the proxy cannot read (reader.ts, adoptAccepted) is refused, never a crash.
      client.destroy();
      return;
    }
    this.connections.add(connection);
    void connection.closed.then(() => this.connections.delete(connection));
  }
}
