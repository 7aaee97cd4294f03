// The syslog ingress against an in-test TCP receiver that parses what it gets back into messages.

import { once } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { encodeToken, scanTokens, type ScannedEvents } from "../../../harness/target/identity.ts";
import type { Ingress } from "../../../harness/target/ingress/ingress.ts";
import {
  syslogIngress,
  type SyslogIngressOptions,
} from "../../../harness/target/ingress/syslog.ts";
import {
  SYSLOG_FORMATS,
  SYSLOG_FRAMINGS,
  type SyslogFormat,
  type SyslogFraming,
} from "../../../harness/target/ingress/syslog-format.ts";
import { createRealNet, realClock, realRng } from "../../../pipeline/host/real-seam.ts";
import { Workload } from "../../../harness/workload/workload.ts";
import { expectEachOnce, freePort, idsOf, recordingLog, twoStreams } from "./support.ts";

const PAYLOAD_CHARS = 40;
const RFC5424 = /^<134>1 (\S+) (\S+) (\S+) (\d+) - - (.*)$/s;
const RFC3164 = /^<134>([A-Z][a-z]{2}) ([ \d]\d) (\d\d:\d\d:\d\d) (\S+) ([A-Za-z0-9_.-]+): (.*)$/s;

/** A TCP syslog receiver: splits frames back into messages as they arrive. */
class Receiver {
  readonly messages: string[] = [];
  readonly connections = new Set<Socket>();
  private readonly server: Server;
  private waiter: { count: number; resolve(): void } | undefined;

  private constructor(framing: SyslogFraming, destroyOnData: boolean) {
    this.server = createServer((socket) => {
      this.connections.add(socket);
      socket.once("close", () => this.connections.delete(socket));
      socket.on("error", () => {});
      let pending: Buffer = Buffer.alloc(0);
      socket.on("data", (chunk: Buffer) => {
        if (destroyOnData) {
          socket.destroy();
          return;
        }
        pending = Buffer.concat([pending, chunk]);
        pending = framing === "lf" ? this.splitLines(pending) : this.splitCounted(pending);
        if (this.waiter !== undefined && this.messages.length >= this.waiter.count) {
          this.waiter.resolve();
        }
      });
    });
  }

  static async start(
    framing: SyslogFraming,
    port = 0,
    destroyOnData = false,
  ): Promise<Receiver & { port: number }> {
    const receiver = new Receiver(framing, destroyOnData);
    receiver.server.listen(port, "127.0.0.1");
    await once(receiver.server, "listening");
    const address = receiver.server.address();
    if (typeof address !== "object" || address === null) throw new Error("no port");
    return Object.assign(receiver, { port: address.port });
  }

  /** Resolves once `count` messages have arrived in all. */
  until(count: number): Promise<void> {
    if (this.messages.length >= count) return Promise.resolve();
    return new Promise((resolve) => (this.waiter = { count, resolve }));
  }

  async stop(): Promise<void> {
    const closed = once(this.server, "close");
    this.server.close();
    for (const socket of this.connections) socket.destroy();
    await closed;
  }

  private splitLines(pending: Buffer): Buffer {
    let start = 0;
    for (let end = pending.indexOf(10); end >= 0; end = pending.indexOf(10, start)) {
      this.messages.push(pending.subarray(start, end).toString("utf8"));
      start = end + 1;
    }
    return pending.subarray(start);
  }

  /** RFC 6587 octet counting: `<length> <message>`, the length in bytes. */
  private splitCounted(pending: Buffer): Buffer {
    let start = 0;
    for (;;) {
      const space = pending.indexOf(32, start);
      if (space < 0) break;
      const lengthText = pending.subarray(start, space).toString("ascii");
      expect(lengthText).toMatch(/^[1-9]\d*$/);
      const end = space + 1 + Number(lengthText);
      if (end > pending.length) break;
      this.messages.push(pending.subarray(space + 1, end).toString("utf8"));
      start = end;
    }
    return pending.subarray(start);
  }
}

/** The MSG of a message, after checking its header against the format. */
function msgOf(message: string, format: SyslogFormat): string {
  const match = (format === "rfc5424" ? RFC5424 : RFC3164).exec(message);
  expect(match, message.slice(0, 120)).not.toBeNull();
  if (format === "rfc5424") {
    const [, timestamp, hostname, appName] = match!;
    expect(Number.isNaN(Date.parse(timestamp!))).toBe(false);
    expect([hostname, appName]).toEqual(["relay-test", "loadgen"]);
  } else {
    expect([match![4], match![5]]).toEqual(["relay-test", "loadgen"]);
  }
  return match!.at(-1)!;
}

const opened: Ingress[] = [];
const receivers: Receiver[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((ingress) => ingress.close()));
  await Promise.all(receivers.splice(0).map((receiver) => receiver.stop()));
});

function open(options: Partial<SyslogIngressOptions> & { port: number }): Ingress {
  const ingress = syslogIngress({
    host: "127.0.0.1",
    framing: "octet-counting",
    format: "rfc5424",
    payloadChars: PAYLOAD_CHARS,
    hostname: "relay-test",
    appName: "loadgen",
    maxAttempts: 3,
    requestTimeoutMs: 5_000,
    retryBaseMs: 1,
    retryMaxMs: 5,
    ...options,
  });
  opened.push(ingress);
  return ingress;
}

async function receiver(framing: SyslogFraming, port?: number, destroyOnData?: boolean) {
  const started = await Receiver.start(framing, port, destroyOnData);
  receivers.push(started);
  return started;
}

describe("syslog ingress", () => {
  const combinations = SYSLOG_FRAMINGS.flatMap((framing) =>
    SYSLOG_FORMATS.map((format) => ({ framing, format })),
  );

  it.each(combinations)(
    "writes every event once as one $format message framed by $framing, its MSG the token",
    async ({ framing, format }) => {
      const server = await receiver(framing);
      const ingress = open({ port: server.port, framing, format });
      const batches = [twoStreams(150), twoStreams(100, 150)];
      const results = await Promise.all(batches.map((batch) => ingress.send(batch)));
      expect(results.map((result) => result.outcome)).toEqual(["acked", "acked"]);
      await server.until(500);
      expect(server.messages).toHaveLength(500);

      const scanned: ScannedEvents = { events: [], corrupt: [] };
      for (const message of server.messages) {
        const msg = msgOf(message, format);
        const before = scanned.events.length;
        scanTokens(msg, scanned);
        expect(scanned.events.length, msg).toBe(before + 1);
        expect(msg).toBe(encodeToken(scanned.events.at(-1)!, PAYLOAD_CHARS));
      }
      expect(scanned.corrupt).toEqual([]);
      expectEachOnce(scanned.events, idsOf(...batches));
      expect(server.connections.size).toBe(1);
    },
  );

  it("settles a batch as unknown when the receiver drops the connection in the middle of it", async () => {
    const server = await receiver("octet-counting", 0, true);
    const ingress = open({ port: server.port, payloadChars: 1_000 });
    // Some 8 MB: more than the socket buffers hold, so the write is still going on when the
    // receiver resets the connection.
    const result = await ingress.send(twoStreams(4_000));
    expect(result.outcome).toBe("unknown");
    expect(result.detail).toMatch(/write failed|closed before/);
  });

  it("rejects a batch when no connection can be made within the attempts: nothing was sent", async () => {
    const port = await freePort();
    const ingress = open({ port, maxAttempts: 2 });
    const result = await ingress.send(twoStreams(5));
    expect(result).toMatchObject({ outcome: "rejected", attempts: 2, lastFailure: "refused" });
    expect(result.detail).toContain(`127.0.0.1:${port}`);
  });

  it("reconnects to a receiver restarted on the same port", async () => {
    const log = recordingLog();
    const first = await receiver("lf");
    const port = first.port;
    const ingress = open({ port, framing: "lf", log });
    const before = twoStreams(10);
    expect((await ingress.send(before)).outcome).toBe("acked");
    await first.until(20);

    const closedSeen = log.next("syslog ingress connection closed");
    await first.stop();
    receivers.splice(receivers.indexOf(first), 1);
    await closedSeen;
    expect((await ingress.send(twoStreams(10, 10))).outcome).toBe("rejected");

    const second = await receiver("lf", port);
    const after = twoStreams(10, 20);
    expect((await ingress.send(after)).outcome).toBe("acked");
    await second.until(20);
    const scanned = scanTokens(second.messages.join("\n"));
    expectEachOnce(scanned.events, idsOf(after));
    expect(log.messages.filter((message) => message === "syslog ingress connected")).toHaveLength(
      2,
    );
  });

  it("settles a batch waiting to reconnect as rejected when the ingress closes", async () => {
    const ingress = open({
      port: await freePort(),
      maxAttempts: 5,
      retryBaseMs: 60_000,
      retryMaxMs: 60_000,
    });
    const sending = ingress.send(twoStreams(3));
    // The first attempt is refused at once and the batch waits a minute to try again (were it
    // still connecting, close() would end that attempt: rejected all the same).
    await new Promise((resolve) => setTimeout(resolve, 50));
    await ingress.close();
    expect(await sending).toMatchObject({ outcome: "rejected", lastFailure: "refused" });
  });

  it("carries the workload's batches through its seam: every acked event arrives once", async () => {
    const server = await receiver("octet-counting");
    const ingress = open({ port: server.port });
    const net = createRealNet();
    const workload = new Workload(
      { clock: realClock, rng: realRng, net, send: (batch) => ingress.send(batch) },
      "http://unused.invalid",
      { tenants: 5, eventsPerSecond: 20_000, batchSize: 200, maxEvents: 2_000, payloadBytes: 24 },
    );
    workload.start();
    while (workload.stats().produced < 2_000)
      await new Promise((resolve) => setTimeout(resolve, 20));
    const stats = await workload.stop();
    net.close();
    expect(stats).toMatchObject({ produced: 2_000, acked: 2_000, rejected: 0, unknown: 0 });
    await server.until(2_000);
    const scanned = scanTokens(server.messages.join("\n"));
    expect(scanned.corrupt).toEqual([]);
    const acked = [...workload.record.streams()].flatMap((stream) => {
      const { tenant, dataset, producer } = stream;
      const seqs = Array.from({ length: stream.produced }, (_, seq) => seq);
      return seqs
        .filter((seq) => stream.acked.countWithin(seq, seq) === 1)
        .map((seq) => ({ tenant, dataset, producer, seq }));
    });
    expectEachOnce(scanned.events, acked);
  });
});
