// The syslog recorder (docs/targets.md, "Egress"): a TCP listener on 127.0.0.1 that takes any
// number of connections, splits each stream into messages (syslog-framing.ts) and scans every
// message for identity tokens. A connection that ends mid-frame loses only that frame: its bytes
// are scanned too, so a token cut short is recorded as corrupt. While a connection's arrivals are
// being made durable it is not read, so a flood waits in TCP's buffers rather than in memory.

import net from "node:net";
import { Counter } from "prom-client";
import { scanTokens, type ScannedEvents } from "../identity.ts";
import { emptyArrivals } from "./record-log.ts";
import type { Receiver, ReceiverContext } from "./receiver.ts";
import { FramingError, SyslogDeframer, type Framing } from "./syslog-framing.ts";

export interface SyslogLimits {
  /** Largest message (octet count, or bytes before LF); a larger one ends the connection. */
  maxFrameBytes: number;
  /** Most connections open at once; one more is closed as soon as it is accepted. */
  maxConnections: number;
}

export const DEFAULT_SYSLOG_LIMITS: Readonly<SyslogLimits> = Object.freeze({
  maxFrameBytes: 1024 * 1024,
  maxConnections: 1024,
});

export function syslogReceiver(
  context: ReceiverContext,
  options: { listenPort: number; framing: Framing; limits?: SyslogLimits },
): Receiver {
  const { records, log } = context;
  const limits = options.limits ?? DEFAULT_SYSLOG_LIMITS;
  const framingErrors = new Counter({
    name: "recorder_framing_errors_total",
    help: "Connections ended because their stream could not be framed",
    registers: [context.metrics],
  });
  const connections = new Set<net.Socket>();
  const recording = new Set<Promise<void>>();
  let closing: Promise<void> | undefined;

  function record(socket: net.Socket, arrivals: ScannedEvents): void {
    const done = records
      .add(arrivals)
      // A failed disk is kept by the record log and reported on /healthz.
      .catch(() => {})
      .finally(() => {
        recording.delete(done);
        if (!socket.destroyed) socket.resume();
      });
    recording.add(done);
  }

  function accept(socket: net.Socket): void {
    connections.add(socket);
    socket.setNoDelay(true);
    const deframer = new SyslogDeframer(options.framing, limits.maxFrameBytes);
    const scan = (arrivals: ScannedEvents) => (message: string) =>
      void scanTokens(message, arrivals);
    socket.on("data", (chunk: Buffer) => {
      const arrivals = emptyArrivals();
      try {
        deframer.push(chunk, scan(arrivals));
      } catch (error) {
        if (!(error instanceof FramingError)) throw error;
        framingErrors.inc();
        log.warn("closing a syslog connection that cannot be framed", {
          remote: `${socket.remoteAddress}:${socket.remotePort}`,
          error: error.message,
        });
        socket.destroy();
      }
      socket.pause();
      record(socket, arrivals);
    });
    // A reset by the peer is an ordinary end here; what arrived before it is kept.
    socket.on("error", () => {});
    socket.on("close", () => {
      connections.delete(socket);
      const arrivals = emptyArrivals();
      deframer.end(scan(arrivals));
      record(socket, arrivals);
    });
  }

  const server = net.createServer({ noDelay: true }, accept);
  server.maxConnections = limits.maxConnections;

  return {
    start: () =>
      new Promise((resolve, reject) => {
        server.once("error", reject);
        server.listen(options.listenPort, "127.0.0.1", () => {
          server.off("error", reject);
          server.on("error", (error) =>
            log.error("syslog listener failed", { error: String(error) }),
          );
          resolve();
        });
      }),
    close() {
      closing ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of connections) socket.destroy();
        await stopped;
        while (recording.size > 0) await Promise.all(recording);
      })();
      return closing;
    },
    health: () => ({ connections: connections.size, framing: options.framing }),
  };
}
