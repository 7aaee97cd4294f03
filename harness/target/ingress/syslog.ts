// Syslog over TCP ingress (docs/targets.md, "Ingress"): one persistent connection to the target's
// first hop, a batch written as one socket write of framed messages. A syslog client learns
// nothing after the write: no acknowledgement comes back, so a batch the socket took is acked
// even if the peer drops it, which is what makes a relay's loss silent.
//
//   no connection within the attempts (backoff between) → rejected: nothing was sent
//   the write's callback without error                   → acked
//   the write failed, timed out, or the connection closed before its callback
//                                                        → unknown: part may have been sent
//
// A batch that may be partly sent is not retried; a new connection is opened by the next batch.

import { createConnection, type Socket } from "node:net";
import { backoffMs, type Limits } from "../../../pipeline/core/limits.ts";
import { NetError, type Clock, type Log, type Rng } from "../../../pipeline/core/seam.ts";
import { netErrorOf, realClock, realRng } from "../../../pipeline/host/real-seam.ts";
import type { Batch } from "../../workload/batch.ts";
import type { BatchOutcome } from "../../workload/record.ts";
import type { BatchResult } from "../../workload/send-batch.ts";
import { Waits } from "../../workload/waits.ts";
import type { Ingress } from "./ingress.ts";
import {
  backoffLimits,
  checkPayloadChars,
  closedResult,
  noLog,
  resolveSendingOptions,
  settled,
  type SendingOptions,
} from "./sending.ts";
import {
  SYSLOG_APP_NAME_DEFAULT,
  SYSLOG_APP_NAME_PATTERN,
  SYSLOG_HOSTNAME_DEFAULT,
  SYSLOG_HOSTNAME_PATTERN,
  syslogBatch,
  syslogHeader,
  type SyslogFormat,
  type SyslogFraming,
  type SyslogHeaderFields,
} from "./syslog-format.ts";

export const SYSLOG_ACKNOWLEDGEMENT =
  "written to the TCP socket without error (a syslog client learns nothing more)";

export interface SyslogIngressOptions extends Partial<SendingOptions> {
  host: string;
  port: number;
  framing: SyslogFraming;
  format: SyslogFormat;
  /** Length of the payload in each event's token (docs/targets.md, "Identity"). */
  payloadChars: number;
  hostname?: string;
  appName?: string;
  clock?: Clock;
  rng?: Rng;
  log?: Log;
}

interface PendingWrite {
  settle(outcome: BatchOutcome, detail: string, error?: NetError): void;
}

interface Connection {
  socket: Socket;
  /** Writes whose callback has not come yet: unknown if the connection closes first. */
  pending: Set<PendingWrite>;
  lastError: NetError | undefined;
}

/**
 * Sending a batch: `maxAttempts` connection attempts at most, each within `requestTimeoutMs`,
 * with a backoff of `retryBaseMs`..`retryMaxMs` between them; a write not done within
 * `requestTimeoutMs` is unknown and its connection is closed.
 */
export function syslogIngress(options: SyslogIngressOptions): Ingress {
  return new SyslogIngress(options);
}

class SyslogIngress implements Ingress {
  readonly kind = "syslog";
  readonly acknowledgement = SYSLOG_ACKNOWLEDGEMENT;

  private readonly host: string;
  private readonly port: number;
  private readonly framing: SyslogFraming;
  private readonly header: SyslogHeaderFields;
  private readonly payloadChars: number;
  private readonly sending: SendingOptions;
  private readonly limits: Limits;
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly log: Log;
  private readonly waits: Waits;

  private current: Connection | undefined;
  private connecting: Promise<Connection> | undefined;
  /** Every socket not yet closed, so that close() waits for all. */
  private readonly sockets = new Set<Socket>();
  private closed = false;

  constructor(options: SyslogIngressOptions) {
    const hostname = options.hostname ?? SYSLOG_HOSTNAME_DEFAULT;
    const appName = options.appName ?? SYSLOG_APP_NAME_DEFAULT;
    if (!SYSLOG_HOSTNAME_PATTERN.test(hostname)) {
      throw new Error(
        `syslog hostname is ${JSON.stringify(hostname)}, expected 1-255 printable ASCII characters without spaces`,
      );
    }
    if (!SYSLOG_APP_NAME_PATTERN.test(appName)) {
      throw new Error(
        `syslog appName is ${JSON.stringify(appName)}, expected 1-32 characters of [A-Za-z0-9_.-]`,
      );
    }
    checkPayloadChars(this.kind, options.payloadChars);
    this.host = options.host;
    this.port = options.port;
    this.framing = options.framing;
    this.header = { format: options.format, hostname, appName, procId: process.pid };
    this.payloadChars = options.payloadChars;
    this.sending = resolveSendingOptions(options);
    this.limits = backoffLimits(this.sending);
    this.clock = options.clock ?? realClock;
    this.rng = options.rng ?? realRng;
    this.log = options.log ?? noLog;
    this.waits = new Waits(this.clock);
  }

  private get address(): string {
    return `${this.host}:${this.port}`;
  }

  async send(batch: Batch): Promise<BatchResult> {
    if (this.closed) return closedResult(this.kind);
    const header = syslogHeader(this.header, this.clock.now());
    const data = syslogBatch(batch, header, this.framing, this.payloadChars);
    for (let attempt = 1; ; attempt++) {
      let connection: Connection;
      try {
        connection = await this.connection();
      } catch (error) {
        const failure = netErrorOf(error as NodeJS.ErrnoException);
        const detail = `no connection to ${this.address} (${failure.message}): nothing was sent`;
        if (attempt >= this.sending.maxAttempts) {
          return settled("rejected", attempt, detail, failure.failure);
        }
        const delayMs = backoffMs(this.limits, attempt - 1, this.rng.next());
        if (!(await this.waits.wait(delayMs))) {
          return settled("rejected", attempt, `${detail}; the ingress closed`, failure.failure);
        }
        continue;
      }
      if (this.closed) return closedResult(this.kind);
      return this.write(connection, data, attempt, batch.eventCount);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.waits.close();
    const closing = [...this.sockets].map(
      (socket) => new Promise<void>((resolve) => socket.once("close", () => resolve())),
    );
    for (const socket of this.sockets) socket.destroy();
    await Promise.all(closing);
  }

  /** The open connection, or a new one; concurrent batches share one attempt. */
  private connection(): Promise<Connection> {
    const current = this.current;
    if (current !== undefined && current.socket.writable) return Promise.resolve(current);
    this.current = undefined;
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private open(): Promise<Connection> {
    if (this.closed) return Promise.reject(new NetError("refused", "the syslog ingress is closed"));
    return new Promise((resolve, reject) => {
      const socket = createConnection({ host: this.host, port: this.port });
      const connection: Connection = { socket, pending: new Set(), lastError: undefined };
      let connected = false;
      this.sockets.add(socket);
      socket.setNoDelay(true);
      // A syslog receiver sends nothing back; whatever comes is read and dropped.
      socket.resume();
      const timeoutMs = this.sending.requestTimeoutMs;
      const deadline = this.clock.schedule(timeoutMs, () =>
        socket.destroy(new NetError("timeout", `no connection in ${timeoutMs} ms`)),
      );
      socket.once("connect", () => {
        deadline.cancel();
        connected = true;
        this.current = connection;
        this.log.info("syslog ingress connected", { address: this.address });
        resolve(connection);
      });
      socket.on("error", (error: NodeJS.ErrnoException) => {
        connection.lastError = netErrorOf(error);
      });
      // The peer closed its side: later batches go to a new connection.
      socket.on("end", () => this.forget(connection));
      socket.once("close", () => {
        deadline.cancel();
        this.sockets.delete(socket);
        this.forget(connection);
        const error = connection.lastError ?? new NetError("reset", "closed by the peer");
        if (!connected) {
          reject(error);
          return;
        }
        for (const pending of [...connection.pending]) {
          pending.settle(
            "unknown",
            `the connection closed before the batch was written (${error.message})`,
            error,
          );
        }
        this.log.warn("syslog ingress connection closed", {
          address: this.address,
          error: error.message,
        });
      });
    });
  }

  private forget(connection: Connection): void {
    if (this.current === connection) this.current = undefined;
  }

  private write(
    connection: Connection,
    data: string,
    attempts: number,
    eventCount: number,
  ): Promise<BatchResult> {
    return new Promise((resolve) => {
      const timeoutMs = this.sending.requestTimeoutMs;
      const pending: PendingWrite = {
        settle: (outcome, detail, error) => {
          if (!connection.pending.delete(pending)) return;
          deadline.cancel();
          resolve(settled(outcome, attempts, detail, error?.failure));
        },
      };
      const deadline = this.clock.schedule(timeoutMs, () => {
        const error = new NetError("timeout", `the batch was not written in ${timeoutMs} ms`);
        pending.settle("unknown", error.message, error);
        // The rest of the batch may still be queued: the connection is given up with it.
        connection.socket.destroy(error);
      });
      connection.pending.add(pending);
      connection.socket.write(data, (error) => {
        if (error === null || error === undefined) {
          pending.settle("acked", `${eventCount} messages written to ${this.address}`);
        } else {
          // A write cut short by the connection's own failure says only ECANCELED: name that one.
          const failure = connection.lastError ?? netErrorOf(error as NodeJS.ErrnoException);
          pending.settle("unknown", `the write failed (${failure.message})`, failure);
        }
      });
    });
  }
}
