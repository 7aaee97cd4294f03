// Data plane, per toxic, on real loopback sockets. Timing is asserted only for a fault's own
// semantics and with wide margins: the machine may be busy.
import { Toxiproxy } from "toxiproxy-node-client";
import { beforeEach, describe, expect, it } from "vitest";
import {
  addToxic,
  client,
  echoServer,
  embeddedToxiproxy,
  portOf,
  proxyInFront,
  roundTripMs,
  sendingServer,
  settlesWithin,
  sleep,
  tcpServer,
  useCleanup,
  type TcpServer,
} from "./helpers.ts";

describe("toxics on live connections", () => {
  const defer = useCleanup();
  let toxiproxy: Toxiproxy;

  beforeEach(async () => {
    toxiproxy = new Toxiproxy((await embeddedToxiproxy(defer, 42)).url);
  });

  /** A proxy in front of `upstream`, and a function connecting a client through it. */
  async function proxyTo(upstream: TcpServer) {
    const proxy = await proxyInFront(toxiproxy, upstream);
    return { proxy, connect: () => client(defer, portOf(proxy.listen)) };
  }

  describe("latency", () => {
    it("delays each round trip by the configured latency", async () => {
      const { proxy, connect } = await proxyTo(await echoServer(defer));
      await addToxic(proxy, "latency", { latency: 150 });
      const connection = await connect();
      for (let round = 0; round < 3; round += 1) {
        const ms = await roundTripMs(connection);
        expect(ms).toBeGreaterThanOrEqual(145);
        expect(ms).toBeLessThan(150 + 400);
      }
    });

    it("applies to a connection that was open before it was added", async () => {
      const { proxy, connect } = await proxyTo(await echoServer(defer));
      const connection = await connect();
      expect(await roundTripMs(connection)).toBeLessThan(100);
      await addToxic(proxy, "latency", { latency: 200 }, "upstream");
      expect(await roundTripMs(connection)).toBeGreaterThanOrEqual(195);
    });

    it("stacks with a second latency toxic", async () => {
      const { proxy, connect } = await proxyTo(await echoServer(defer));
      await addToxic(proxy, "latency", { latency: 100 }, "upstream");
      await addToxic(proxy, "latency", { latency: 100 });
      expect(await roundTripMs(await connect())).toBeGreaterThanOrEqual(195);
    });

    it("does not cap throughput: a bulk transfer takes about one latency, not one per chunk", async () => {
      const payload = Buffer.alloc(8 * 1024 * 1024, 1);
      const { proxy, connect } = await proxyTo(await sendingServer(defer, payload));
      await addToxic(proxy, "latency", { latency: 100 });
      const { data, endMs } = await (await connect()).transcript;
      expect(data.length).toBe(payload.length);
      // Chunk by chunk (128 reads of 64 KiB, 100 ms each) would take 12.8 s.
      expect(endMs).toBeLessThan(3000);
    });

    it("keeps the byte order under jitter", async () => {
      const { proxy, connect } = await proxyTo(await echoServer(defer));
      await addToxic(proxy, "latency", { latency: 20, jitter: 20 });
      const connection = await connect();
      const sent = Array.from({ length: 50 }, (_, index) => `${index};`).join("");
      for (const piece of sent.split(/(?<=;)/)) {
        connection.socket.write(piece);
        await sleep(1);
      }
      expect((await connection.received(sent.length)).toString()).toBe(sent);
    });

    it("flushes the data it holds when removed", async () => {
      const { proxy, connect } = await proxyTo(await echoServer(defer));
      await addToxic(proxy, "latency", { latency: 60_000 });
      const connection = await connect();
      connection.socket.write("held");
      await sleep(100);
      const removedAt = performance.now();
      await (await proxy.getToxic("latency-downstream")).remove();
      expect((await connection.received(4)).toString()).toBe("held");
      expect(performance.now() - removedAt).toBeLessThan(1000);
    });
  });

  describe("bandwidth", () => {
    it("paces a transfer to the configured rate within 15%", async () => {
      const payload = Buffer.alloc(150_000, 7);
      const { proxy, connect } = await proxyTo(await sendingServer(defer, payload));
      await addToxic(proxy, "bandwidth", { rate: 100 });
      const { transcript } = await connect();
      const { data, endMs } = await transcript;
      expect(data.equals(payload)).toBe(true);
      // 150 000 bytes at 100 KB/s (KB = 1000 bytes) is 1.5 s.
      expect(endMs).toBeGreaterThan(1500 * 0.85);
      expect(endMs).toBeLessThan(1500 * 1.15);
    });

    it("stalls at rate 0 until updated", async () => {
      const { proxy, connect } = await proxyTo(await sendingServer(defer, "after the stall"));
      const toxic = await addToxic(proxy, "bandwidth", { rate: 0 });
      const connection = await connect();
      expect(await settlesWithin(connection.received(1), 300)).toBe(false);
      await toxic.update({ attributes: { rate: 1000 } } as never);
      expect((await connection.transcript).data.toString()).toBe("after the stall");
    });
  });

  describe("timeout", () => {
    it("passes no data and closes the connection after the timeout", async () => {
      const { proxy, connect } = await proxyTo(await echoServer(defer));
      await addToxic(proxy, "timeout", { timeout: 300 }, "upstream");
      const connection = await connect();
      connection.socket.write("lost");
      const { data, closeMs } = await connection.transcript;
      expect(data.length).toBe(0);
      expect(closeMs).toBeGreaterThanOrEqual(290);
      expect(closeMs).toBeLessThan(300 + 1000);
    });

    it("holds the connection open without data at timeout 0, and removing it closes it", async () => {
      const { proxy, connect } = await proxyTo(await echoServer(defer));
      const toxic = await addToxic(proxy, "timeout", { timeout: 0 });
      const connection = await connect();
      connection.socket.write("lost");
      expect(await settlesWithin(connection.transcript, 500)).toBe(false);
      expect(await settlesWithin(connection.received(1), 0)).toBe(false);
      await toxic.remove();
      expect(await settlesWithin(connection.transcript, 2000)).toBe(true);
      expect((await connection.transcript).data.length).toBe(0);
    });
  });

  describe("reset_peer", () => {
    it("resets the connection with a TCP RST when data arrives", async () => {
      const { proxy, connect } = await proxyTo(await echoServer(defer));
      await addToxic(proxy, "reset_peer", { timeout: 0 }, "upstream");
      const connection = await connect();
      connection.socket.write("boom");
      const { errorCode, data } = await connection.transcript;
      expect(errorCode).toBe("ECONNRESET");
      expect(data.length).toBe(0);
    });

    it("waits the timeout before resetting", async () => {
      const { proxy, connect } = await proxyTo(await sendingServer(defer, "hello"));
      await addToxic(proxy, "reset_peer", { timeout: 250 });
      const { errorCode, closeMs } = await (await connect()).transcript;
      expect(errorCode).toBe("ECONNRESET");
      expect(closeMs).toBeGreaterThanOrEqual(240);
    });
  });

  describe("limit_data", () => {
    it("closes the connection after exactly the configured bytes", async () => {
      const payload = Buffer.from(Array.from({ length: 10_000 }, (_, index) => index % 251));
      const { proxy, connect } = await proxyTo(await sendingServer(defer, payload));
      await addToxic(proxy, "limit_data", { bytes: 1234 });
      const { data } = await (await connect()).transcript;
      expect(data.equals(payload.subarray(0, 1234))).toBe(true);
    });

    it("counts per direction across several writes", async () => {
      const upstreamReceived: Buffer[] = [];
      const sink = await tcpServer(defer, (socket) =>
        socket.on("data", (d: Buffer) => upstreamReceived.push(d)),
      );
      const { proxy, connect } = await proxyTo(sink);
      await addToxic(proxy, "limit_data", { bytes: 10 }, "upstream");
      const connection = await connect();
      connection.socket.write("12345");
      await sleep(50);
      connection.socket.write("67890abcdef");
      await connection.transcript;
      await sleep(50);
      expect(Buffer.concat(upstreamReceived).toString()).toBe("1234567890");
    });
  });

  describe("slicer", () => {
    it("delivers the same bytes in more, smaller reads", async () => {
      const payload = Buffer.from("x".repeat(4000));
      const plain = await proxyTo(await sendingServer(defer, payload));
      const sliced = await proxyTo(await sendingServer(defer, payload));
      await addToxic(sliced.proxy, "slicer", {
        average_size: 200,
        size_variation: 50,
        delay: 3000,
      });
      const without = await (await plain.connect()).transcript;
      const withSlicer = await (await sliced.connect()).transcript;
      expect(withSlicer.data.equals(payload)).toBe(true);
      expect(withSlicer.reads.length).toBeGreaterThan(without.reads.length);
      expect(withSlicer.reads.length).toBeGreaterThanOrEqual(8);
      expect(Math.max(...withSlicer.reads)).toBeLessThan(payload.length);
    });
  });

  describe("slow_close", () => {
    it("passes data at once but delays the close", async () => {
      const { proxy, connect } = await proxyTo(await sendingServer(defer, "bye"));
      await addToxic(proxy, "slow_close", { delay: 400 });
      const { data, firstByteMs, endMs } = await (await connect()).transcript;
      expect(data.toString()).toBe("bye");
      expect(firstByteMs).toBeLessThan(300);
      expect(endMs).toBeGreaterThanOrEqual(395);
    });
  });

  describe("noop", () => {
    it("passes everything through", async () => {
      const { proxy, connect } = await proxyTo(await echoServer(defer));
      await addToxic(proxy, "noop", {}, "upstream");
      await addToxic(proxy, "noop", {});
      const connection = await connect();
      connection.socket.write("unchanged");
      expect((await connection.received(9)).toString()).toBe("unchanged");
    });
  });

  describe("toxicity", () => {
    it("0 never applies the toxic", async () => {
      const { proxy, connect } = await proxyTo(await echoServer(defer));
      await addToxic(proxy, "timeout", { timeout: 0 }, "downstream", 0);
      for (let index = 0; index < 10; index += 1) {
        const connection = await connect();
        connection.socket.write("through");
        expect(await settlesWithin(connection.received(7), 2000)).toBe(true);
        connection.socket.destroy();
      }
    });

    it("1 always applies the toxic", async () => {
      const { proxy, connect } = await proxyTo(await echoServer(defer));
      await addToxic(proxy, "timeout", { timeout: 0 }, "downstream", 1);
      const connections = await Promise.all(Array.from({ length: 10 }, () => connect()));
      for (const connection of connections) connection.socket.write("held");
      await sleep(300);
      for (const connection of connections) {
        expect(await settlesWithin(connection.received(1), 0)).toBe(false);
      }
    });

    it("is rolled per connection: 0.5 applies to some connections and not others", async () => {
      const { proxy, connect } = await proxyTo(await echoServer(defer));
      await addToxic(proxy, "timeout", { timeout: 0 }, "downstream", 0.5);
      const connections = await Promise.all(Array.from({ length: 30 }, () => connect()));
      for (const connection of connections) connection.socket.write("?");
      await sleep(400);
      const answered = await Promise.all(
        connections.map((connection) => settlesWithin(connection.received(1), 0)),
      );
      const through = answered.filter(Boolean).length;
      expect(through).toBeGreaterThan(0);
      expect(through).toBeLessThan(30);
    });
  });
});
