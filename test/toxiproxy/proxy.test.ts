// Data plane, proxy-wide: connections across enable/disable, an unreachable upstream, and the
// stream's end passing through.
import { connect } from "node:net";
import { Toxiproxy } from "toxiproxy-node-client";
import { beforeEach, describe, expect, it } from "vitest";
import {
  client,
  closedPort,
  echoServer,
  embeddedToxiproxy,
  portOf,
  roundTripMs,
  settlesWithin,
  sleep,
  tcpServer,
  useCleanup,
} from "./helpers.ts";

/** Open TCP sockets and listeners of this process, as libuv counts them. */
const openTcpHandles = (): number =>
  process.getActiveResourcesInfo().filter((resource) => resource === "TCPSocketWrap").length;

function connectionRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
  });
}

describe("proxies on live connections", () => {
  const defer = useCleanup();
  let toxiproxy: Toxiproxy;

  beforeEach(async () => {
    toxiproxy = new Toxiproxy((await embeddedToxiproxy(defer)).url);
  });

  const createProxy = (name: string, upstream: string) =>
    toxiproxy.createProxy({ name, listen: "127.0.0.1:0", upstream });

  it("disabling a proxy drops live connections and refuses new ones; enabling restores it", async () => {
    const upstream = await echoServer(defer);
    const proxy = await createProxy("echo", upstream.address);
    const port = portOf(proxy.listen);
    const live = await client(defer, port);
    await roundTripMs(live);
    await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    expect(await settlesWithin(live.transcript, 2000)).toBe(true);
    expect(await connectionRefused(port)).toBe(true);
    await proxy.update({ enabled: true, listen: proxy.listen, upstream: proxy.upstream });
    expect(await roundTripMs(await client(defer, port))).toBeLessThan(1000);
  });

  it("deleting a proxy drops its live connections", async () => {
    const upstream = await echoServer(defer);
    const proxy = await createProxy("echo", upstream.address);
    const live = await client(defer, portOf(proxy.listen));
    await proxy.remove();
    expect(await settlesWithin(live.transcript, 2000)).toBe(true);
  });

  it("changing the upstream restarts the proxy: live connections drop, new ones reach the new upstream", async () => {
    const first = await tcpServer(defer, (socket) => socket.end("first"));
    const second = await tcpServer(defer, (socket) => socket.end("second"));
    const holding = await tcpServer(defer, () => {});
    const proxy = await createProxy("p", holding.address);
    const live = await client(defer, portOf(proxy.listen));
    await proxy.update({ enabled: true, listen: proxy.listen, upstream: first.address });
    expect(await settlesWithin(live.transcript, 2000)).toBe(true);
    expect((await (await client(defer, portOf(proxy.listen))).transcript).data.toString()).toBe(
      "first",
    );
    await proxy.update({ enabled: true, listen: proxy.listen, upstream: second.address });
    expect((await (await client(defer, portOf(proxy.listen))).transcript).data.toString()).toBe(
      "second",
    );
  });

  it("closes client connections promptly when the upstream is down, leaking no sockets", async () => {
    const proxy = await createProxy("down", `127.0.0.1:${await closedPort()}`);
    const before = openTcpHandles();
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const { transcript } = await client(defer, portOf(proxy.listen));
      const { closeMs, data } = await transcript;
      expect(data.length).toBe(0);
      expect(closeMs).toBeLessThan(1000);
    }
    await sleep(50);
    expect(openTcpHandles()).toBeLessThanOrEqual(before);
  });

  it("closing connections through the proxy leaks no sockets", async () => {
    const upstream = await echoServer(defer);
    const proxy = await createProxy("echo", upstream.address);
    await roundTripMs(await client(defer, portOf(proxy.listen)));
    await sleep(50);
    const before = openTcpHandles();
    for (let round = 0; round < 10; round += 1) {
      const connection = await client(defer, portOf(proxy.listen));
      await roundTripMs(connection);
      connection.socket.end();
      await connection.transcript;
    }
    await sleep(100);
    expect(openTcpHandles()).toBeLessThanOrEqual(before);
  });

  it("passes a half-close through: the client's FIN reaches the upstream, which can still answer", async () => {
    const upstream = await tcpServer(defer, (socket) => {
      const parts: Buffer[] = [];
      socket.on("data", (data: Buffer) => parts.push(data));
      socket.on("end", () => socket.end(`got ${Buffer.concat(parts).toString()}`));
    });
    const proxy = await createProxy("half", upstream.address);
    const connection = await client(defer, portOf(proxy.listen));
    connection.socket.end("request");
    expect((await connection.transcript).data.toString()).toBe("got request");
  });

  it("a proxy on a loopback name answers on ::1 too, on the same port", async () => {
    const upstream = await echoServer(defer);
    const proxy = await toxiproxy.createProxy({
      name: "both",
      listen: "localhost:0",
      upstream: upstream.address,
    });
    const port = portOf(proxy.listen);
    const overIpv6 = await client(defer, port, "::1");
    expect(await roundTripMs(overIpv6)).toBeLessThan(1000);
  });

  it("the API answers on ::1 too", async () => {
    const server = await embeddedToxiproxy(defer);
    const response = await fetch(`http://[::1]:${server.port}/version`);
    expect(response.status).toBe(200);
  });

  it("moves bulk data in both directions intact", async () => {
    const upstream = await echoServer(defer);
    const proxy = await createProxy("bulk", upstream.address);
    const connection = await client(defer, portOf(proxy.listen));
    const payload = Buffer.alloc(8 * 1024 * 1024);
    for (let index = 0; index < payload.length; index += 1) payload[index] = (index * 31) % 256;
    connection.socket.end(payload);
    const { data } = await connection.transcript;
    expect(data.length).toBe(payload.length);
    expect(data.equals(payload)).toBe(true);
  });
});
