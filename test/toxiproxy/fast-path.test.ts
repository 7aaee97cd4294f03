// The fast path (docs/toxiproxy.md, "The fast path"): a link with no toxic writes each read
// straight on. These tests change a connection's toxics while it is live and check that no byte
// is lost, repeated or reordered at the switch, and that the toxic governs what follows it.
import { createHash } from "node:crypto";
import { once } from "node:events";
import net from "node:net";
import { Toxiproxy, type Proxy } from "toxiproxy-node-client";
import { beforeEach, describe, expect, it } from "vitest";
import {
  addToxic,
  client,
  echoServer,
  embeddedToxiproxy,
  expectToxicGovernsWhatFollows,
  portOf,
  proxyInFront,
  roundTripMs,
  sendingServer,
  settlesWithin,
  sleep,
  tcpServer,
  useCleanup,
  type Client,
  type TcpServer,
} from "./helpers.ts";
import { createRng, realClock } from "../../harness/toxiproxy/clock.ts";
import { DEFAULT_TOXIPROXY_LIMITS } from "../../harness/toxiproxy/limits.ts";
import { Link } from "../../harness/toxiproxy/link.ts";
import { adoptAccepted, readingSocket, SocketReader } from "../../harness/toxiproxy/reader.ts";

/** Bytes that do not repeat with any power-of-two period, so a reused buffer shows. */
function patterned(bytes: number, seed: number): Buffer {
  const payload = Buffer.allocUnsafe(bytes);
  let state = seed >>> 0;
  for (let index = 0; index < bytes; index += 1) {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0;
    payload[index] = state >>> 24;
  }
  return payload;
}

const sha256 = (data: Buffer): string => createHash("sha256").update(data).digest("hex");

describe("the fast path on live connections", () => {
  const defer = useCleanup();
  let toxiproxy: Toxiproxy;

  beforeEach(async () => {
    toxiproxy = new Toxiproxy((await embeddedToxiproxy(defer, 7)).url);
  });

  async function proxyTo(upstream: TcpServer): Promise<{ proxy: Proxy; connection: Client }> {
    const proxy = await proxyInFront(toxiproxy, upstream);
    return { proxy, connection: await client(defer, portOf(proxy.listen)) };
  }

  it("carries a large transfer intact while the reader stalls now and then", async () => {
    const payload = patterned(24 * 1024 * 1024, 1);
    const { connection } = await proxyTo(await echoServer(defer));
    // Stalling the client fills every socket buffer, so the proxy's writes go pending and it
    // must stop reading until they drain.
    let stalledAt = 0;
    connection.socket.on("data", () => {
      const received = connection.socket.bytesRead;
      if (received - stalledAt < 4 * 1024 * 1024) return;
      stalledAt = received;
      connection.socket.pause();
      setTimeout(() => connection.socket.resume(), 20);
    });
    connection.socket.end(payload);
    const { data } = await connection.transcript;
    expect(data.length).toBe(payload.length);
    expect(sha256(data)).toBe(sha256(payload));
  });

  it("keeps every byte, once and in order, when toxics come and go mid-transfer", async () => {
    const segmentBytes = 2.5 * 1024 * 1024;
    const payload = patterned(5 * segmentBytes, 2);
    const { proxy, connection } = await proxyTo(await echoServer(defer));
    // The payload goes in five segments, each sent only after a change, made while the one
    // before is still arriving (a third of it in): whatever is sent after a change crosses the
    // new chain, and the last segment the fast path, taken again on the live connection.
    const segment = (index: number) =>
      payload.subarray(index * segmentBytes, (index + 1) * segmentBytes);
    const midSegment = (index: number) =>
      connection.received(index * segmentBytes + segmentBytes / 3);
    connection.socket.write(segment(0));
    await midSegment(0);
    // Latency holds chunks across later reads; the slicer cuts them across the chain.
    const latency = await addToxic(proxy, "latency", { latency: 5, jitter: 5 }, "downstream");
    connection.socket.write(segment(1));
    await midSegment(1);
    const slicer = await addToxic(proxy, "slicer", { average_size: 9000 }, "downstream");
    connection.socket.write(segment(2));
    await midSegment(2);
    await latency.remove();
    connection.socket.write(segment(3));
    await midSegment(3);
    await slicer.remove();
    connection.socket.end(segment(4));
    const { data } = await connection.transcript;
    expect(data.length).toBe(payload.length);
    expect(sha256(data)).toBe(sha256(payload));
  });

  it("a toxic added to a live connection governs what follows, and the bytes before it arrived", async () => {
    const { proxy, connection } = await proxyTo(await echoServer(defer));
    await expectToxicGovernsWhatFollows(proxy, connection);
  });

  it("removing the last toxic flushes what it held, then later bytes follow in order", async () => {
    const { proxy, connection } = await proxyTo(await echoServer(defer));
    const stall = await addToxic(proxy, "bandwidth", { rate: 0 }, "downstream");
    connection.socket.write("held;");
    expect(await settlesWithin(connection.received(1), 200)).toBe(false);
    await stall.remove();
    connection.socket.write("after;");
    expect((await connection.received("held;after;".length)).toString()).toBe("held;after;");
  });

  it("limit_data added to a live connection counts from where it was added", async () => {
    const received: Buffer[] = [];
    const sink = await tcpServer(defer, (socket) =>
      socket.on("data", (data: Buffer) => received.push(data)),
    );
    const { proxy, connection } = await proxyTo(sink);
    connection.socket.write("fast;");
    while (Buffer.concat(received).length < 5) await sleep(5);
    await addToxic(proxy, "limit_data", { bytes: 4 }, "upstream");
    connection.socket.write("limited");
    await connection.transcript;
    while (sink.accepted[0]?.readableEnded === false) await sleep(5);
    expect(Buffer.concat(received).toString()).toBe("fast;limi");
  });

  it("reset_peer added to a live connection resets it on the next data", async () => {
    const { proxy, connection } = await proxyTo(await echoServer(defer));
    expect(await roundTripMs(connection, "alive")).toBeLessThan(1000);
    await addToxic(proxy, "reset_peer", { timeout: 0 }, "upstream");
    connection.socket.write("boom");
    const { errorCode, data } = await connection.transcript;
    expect(errorCode).toBe("ECONNRESET");
    expect(data.toString()).toBe("alive");
  });

  it("timeout added to a live connection passes nothing more and closes it", async () => {
    const { proxy, connection } = await proxyTo(await echoServer(defer));
    expect(await roundTripMs(connection, "alive")).toBeLessThan(1000);
    await addToxic(proxy, "timeout", { timeout: 100 }, "downstream");
    connection.socket.write("lost");
    const { data } = await connection.transcript;
    expect(data.toString()).toBe("alive");
  });

  it("a disabled proxy drops a live connection; enabled again, a new one takes the fast path", async () => {
    const { proxy, connection } = await proxyTo(await echoServer(defer));
    expect(await roundTripMs(connection, "first")).toBeLessThan(1000);
    const { listen, upstream } = proxy;
    await proxy.update({ enabled: false, listen, upstream });
    expect((await connection.transcript).data.toString()).toBe("first");
    await proxy.update({ enabled: true, listen, upstream });
    const again = await client(defer, portOf(proxy.listen));
    const payload = patterned(2 * 1024 * 1024, 3);
    again.socket.end(payload);
    expect(sha256((await again.transcript).data)).toBe(sha256(payload));
  });
});

describe("adopting an accepted socket", () => {
  const defer = useCleanup();

  it("moves a paused accepted socket onto a socket that reads into the reader's buffer", async () => {
    const moved = new Promise<boolean>((resolve) => {
      const server = net.createServer({ pauseOnConnect: true }, (accepted) => {
        const socket = adoptAccepted(accepted, new SocketReader(64 * 1024));
        resolve(socket !== accepted && accepted.destroyed);
        socket.destroy();
      });
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as net.AddressInfo;
        const sender = net.connect(port, "127.0.0.1");
        defer(() => sender.destroy());
      });
      defer(() => new Promise<void>((done) => server.close(() => done())));
    });
    expect(await moved).toBe(true);
  });

  it("refuses to move a socket that has started reading, rather than read it the slow way", async () => {
    const refused = new Promise<unknown>((resolve) => {
      const server = net.createServer({ pauseOnConnect: true }, (accepted) => {
        accepted.resume();
        try {
          adoptAccepted(accepted, new SocketReader(64 * 1024));
          resolve(null);
        } catch (error) {
          resolve(error);
        } finally {
          accepted.destroy();
        }
      });
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as net.AddressInfo;
        const sender = net.connect(port, "127.0.0.1");
        sender.on("error", () => {});
        defer(() => sender.destroy());
      });
      defer(() => new Promise<void>((done) => server.close(() => done())));
    });
    expect(String(await refused)).toMatch(/adoptAccepted: .*started reading/);
  });
});

describe("a link's back-pressure", () => {
  const defer = useCleanup();

  it("resumes a paused source when its pending write is taken, whatever the destination's high-water mark", async () => {
    // A destination whose high-water mark is far above what is ever pending never emits 'drain':
    // the link must resume from the writes themselves, or this transfer stalls for good.
    const payload = patterned(8 * 1024 * 1024, 3);
    const chunks: Buffer[] = [];
    let arrived: () => void = () => {};
    const done = new Promise<void>((resolve) => (arrived = resolve));
    const sink = await tcpServer(defer, (socket) => {
      // Not reading at first fills the kernel's buffers, so the link's writes go pending.
      socket.pause();
      setTimeout(() => socket.resume(), 100);
      socket.on("data", (data: Buffer) => chunks.push(data));
      socket.on("end", () => arrived());
    });
    const sender = await sendingServer(defer, payload);
    const reader = new SocketReader(DEFAULT_TOXIPROXY_LIMITS.readBufferBytes);
    const source = readingSocket(reader);
    // Node passes stream options through; its typings do not list them for a Socket.
    const destination = new net.Socket({
      writableHighWaterMark: 64 * 1024 * 1024,
    } as net.SocketConstructorOpts);
    defer(() => source.destroy());
    defer(() => destination.destroy());
    destination.connect(sink.port, "127.0.0.1");
    await once(destination, "connect");
    const env = { clock: realClock, rng: createRng(1), limits: DEFAULT_TOXIPROXY_LIMITS };
    const link = new Link(
      { direction: "downstream", source, destination, env, onToxicEnd: () => {} },
      [],
    );
    reader.attach((view) => link.read(view));
    source.connect(sender.port, "127.0.0.1");
    await done;
    const data = Buffer.concat(chunks);
    expect(data.length).toBe(payload.length);
    expect(sha256(data)).toBe(sha256(payload));
  });
});
