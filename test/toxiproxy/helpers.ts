// Test fixtures for the fault proxy: an embedded server, upstream TCP servers and clients on
// loopback. Everything a test creates is registered with `defer` and released after the test,
// also when it fails.
import { once } from "node:events";
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import type { Proxy, Toxiproxy } from "toxiproxy-node-client";
import { afterEach, expect } from "vitest";
import { startToxiproxy, type RunningToxiproxy } from "../../harness/toxiproxy/server.ts";

export type Defer = (release: () => unknown) => void;

/** Registers clean-ups that run after each test, newest first, even when the test failed. */
export function useCleanup(): Defer {
  const releases: (() => unknown)[] = [];
  afterEach(async () => {
    for (let release = releases.pop(); release !== undefined; release = releases.pop()) {
      try {
        await release();
      } catch {
        // One failing clean-up must not keep the others from running.
      }
    }
  });
  return (release) => {
    releases.push(release);
  };
}

export async function embeddedToxiproxy(defer: Defer, seed?: number): Promise<RunningToxiproxy> {
  const server = await startToxiproxy({ host: "127.0.0.1", port: 0, seed });
  defer(() => server.close());
  return server;
}

export interface TcpServer {
  port: number;
  address: string;
  /** Sockets accepted so far. */
  accepted: Socket[];
}

/** A loopback TCP server running `onConnection` for each client; closed after the test. */
export async function tcpServer(
  defer: Defer,
  onConnection: (socket: Socket) => void,
): Promise<TcpServer> {
  const accepted: Socket[] = [];
  const server: Server = createServer({ allowHalfOpen: true }, (socket) => {
    accepted.push(socket);
    socket.on("error", () => {});
    onConnection(socket);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  defer(async () => {
    for (const socket of accepted) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  const { port } = server.address() as AddressInfo;
  return { port, address: `127.0.0.1:${port}`, accepted };
}

export const echoServer = (defer: Defer): Promise<TcpServer> =>
  tcpServer(defer, (socket) => socket.pipe(socket));

/** A server that writes `payload` to each client and then ends its side. */
export const sendingServer = (defer: Defer, payload: Buffer | string): Promise<TcpServer> =>
  tcpServer(defer, (socket) => socket.end(payload));

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** What a client saw on its connection until it closed. */
export interface Transcript {
  data: Buffer;
  /** Sizes of the individual reads. */
  reads: number[];
  /** ms from `connectedAt` to the first byte, to the end (FIN) and to the close. */
  firstByteMs?: number;
  endMs?: number;
  closeMs: number;
  errorCode?: string;
}

export interface Client {
  socket: Socket;
  connectedAt: number;
  /** Resolves when the socket closes (from either side), with everything it read. */
  transcript: Promise<Transcript>;
  /** Resolves once at least `bytes` bytes were read in total. */
  received(bytes: number): Promise<Buffer>;
}

/** Connects to a loopback port and records what arrives. Destroyed after the test. */
export async function client(defer: Defer, port: number, host = "127.0.0.1"): Promise<Client> {
  const socket = connect({ port, host, noDelay: true });
  defer(() => socket.destroy());
  const parts: Buffer[] = [];
  const reads: number[] = [];
  const waiters: { bytes: number; resolve: (data: Buffer) => void }[] = [];
  let connectedAt = performance.now();
  let firstByteMs: number | undefined;
  let endMs: number | undefined;
  let errorCode: string | undefined;
  const elapsed = (): number => performance.now() - connectedAt;
  let receivedBytes = 0;
  socket.on("data", (data: Buffer) => {
    firstByteMs ??= elapsed();
    parts.push(data);
    reads.push(data.length);
    receivedBytes += data.length;
    for (const waiter of waiters.filter((candidate) => receivedBytes >= candidate.bytes)) {
      waiters.splice(waiters.indexOf(waiter), 1);
      waiter.resolve(Buffer.concat(parts));
    }
  });
  socket.on("end", () => (endMs = elapsed()));
  socket.on("error", (error: NodeJS.ErrnoException) => (errorCode = error.code));
  const transcript = new Promise<Transcript>((resolve) => {
    socket.once("close", () =>
      resolve({
        data: Buffer.concat(parts),
        reads,
        firstByteMs,
        endMs,
        closeMs: elapsed(),
        errorCode,
      }),
    );
  });
  await once(socket, "connect");
  connectedAt = performance.now();
  return {
    socket,
    connectedAt,
    transcript,
    received: (bytes) =>
      new Promise((resolve) => {
        if (receivedBytes >= bytes) resolve(Buffer.concat(parts));
        else waiters.push({ bytes, resolve });
      }),
  };
}

/** Sends `message` and returns the ms until as many bytes came back (through an echo server). */
export async function roundTripMs(connection: Client, message = "ping"): Promise<number> {
  const expected = (await connection.received(0)).length + Buffer.byteLength(message);
  const sentAt = performance.now();
  connection.socket.write(message);
  await connection.received(expected);
  return performance.now() - sentAt;
}

/** Resolves after `ms`. */
export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** Whether `promise` settles within `ms`. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Raw control-plane request, as a non-browser client sends it. */
export async function api(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string; json: () => unknown; contentType: string | null }> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return {
    status: response.status,
    text,
    json: () => JSON.parse(text) as unknown,
    contentType: response.headers.get("content-type"),
  };
}

/** The error body Toxiproxy answers with: JSON, then a newline. */
export const errorBody = (error: string, status: number): string =>
  `${JSON.stringify({ error, status })}\n`;

/** "host:port" → port. */
export const portOf = (listen: string): number => Number(listen.slice(listen.lastIndexOf(":") + 1));

/** A proxy on `toxiproxy`, on a free loopback port, in front of `upstream`. */
export function proxyInFront(toxiproxy: Toxiproxy, upstream: TcpServer): Promise<Proxy> {
  return toxiproxy.createProxy({
    name: `to-${upstream.port}`,
    listen: "127.0.0.1:0",
    upstream: upstream.address,
  });
}

/** Adds a toxic named `<type>-<stream>` to `proxy`. */
export function addToxic(
  proxy: Proxy,
  type: string,
  attributes: Record<string, number>,
  stream: "upstream" | "downstream" = "downstream",
  toxicity = 1,
) {
  return proxy.addToxic({ name: `${type}-${stream}`, type, stream, toxicity, attributes } as never);
}

/**
 * A stalling toxic added to `proxy` with `connection` live: what was sent before it arrived in
 * full, what is sent after it is held.
 */
export async function expectToxicGovernsWhatFollows(proxy: Proxy, connection: Client) {
  expect(await roundTripMs(connection, "before")).toBeLessThan(1000);
  await addToxic(proxy, "bandwidth", { rate: 0 }, "upstream");
  connection.socket.write("-held");
  expect(await settlesWithin(connection.received("before-held".length), 200)).toBe(false);
  expect((await connection.received(0)).toString()).toBe("before");
}
