// `npm run bench -- proxy`: what the fault proxy costs with no toxics. Bulk throughput of 64 KiB
// writes directly over loopback and through a proxy, and the round-trip latency of small
// messages both ways. The client and the servers run on worker threads and the proxy on the
// main thread, as a proxy process would sit between two processes. Ends with the line
// `proxy.throughput_mb_s=<n> direct.throughput_mb_s=<n> proxy.added_latency_p50_us=<n>`.
// Bounded: about 20 s.
import { once } from "node:events";
import { connect, createServer, type AddressInfo, type Socket } from "node:net";
import { availableParallelism } from "node:os";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { startToxiproxy } from "../harness/toxiproxy/server.ts";

const BULK_RUN_MS = 1000;
const BULK_RUNS = 5;
const WRITE_BYTES = 64 * 1024;
const PING_BYTES = 32;
const PING_WARMUP = 300;
const PING_ROUNDS = 3000;
const PING_BLOCKS = 2;

/** Messages to and from the worker threads. */
type Request =
  | { kind: "bulk"; port: number; durationMs: number }
  | { kind: "ping"; port: number; rounds: number };
type Reply = { kind: "ports"; sink: number; echo: number } | { kind: "done"; values: number[] };

const ROLE_SERVERS = "spillway-proxy-bench-servers";
const ROLE_CLIENT = "spillway-proxy-bench-client";

export async function benchProxy(): Promise<void> {
  const servers = new Worker(new URL(import.meta.url), { workerData: { role: ROLE_SERVERS } });
  const client = new Worker(new URL(import.meta.url), { workerData: { role: ROLE_CLIENT } });
  const toxiproxy = await startToxiproxy({ host: "127.0.0.1", port: 0 });
  try {
    const ports = (await nextReply(servers)) as Extract<Reply, { kind: "ports" }>;
    const sinkProxy = await createProxy(toxiproxy.url, "bench-sink", ports.sink);
    const echoProxy = await createProxy(toxiproxy.url, "bench-echo", ports.echo);

    // A discarded run each first: JIT warm-up and TCP buffer auto-tuning.
    await bulk(client, servers, ports.sink);
    await bulk(client, servers, sinkProxy);
    const direct: Bulk[] = [];
    const proxied: Bulk[] = [];
    for (let run = 0; run < BULK_RUNS; run += 1) {
      direct.push(await bulk(client, servers, ports.sink));
      proxied.push(await bulk(client, servers, sinkProxy));
    }
    const directRtts: number[] = [];
    const proxiedRtts: number[] = [];
    await ask(client, { kind: "ping", port: ports.echo, rounds: PING_WARMUP });
    await ask(client, { kind: "ping", port: echoProxy, rounds: PING_WARMUP });
    for (let block = 0; block < PING_BLOCKS; block += 1) {
      directRtts.push(
        ...(await ask(client, { kind: "ping", port: ports.echo, rounds: PING_ROUNDS })),
      );
      proxiedRtts.push(
        ...(await ask(client, { kind: "ping", port: echoProxy, rounds: PING_ROUNDS })),
      );
    }
    report(direct, proxied, directRtts, proxiedRtts);
  } finally {
    await toxiproxy.close();
    await Promise.all([servers.terminate(), client.terminate()]);
  }
}

function report(
  direct: Bulk[],
  proxied: Bulk[],
  directRtts: number[],
  proxiedRtts: number[],
): void {
  const bestDirect = Math.max(...direct.map((run) => run.mbPerSecond));
  const bestProxied = Math.max(...proxied.map((run) => run.mbPerSecond));
  const directP50 = percentile(directRtts, 0.5);
  const proxiedP50 = percentile(proxiedRtts, 0.5);
  const added = Math.max(0, proxiedP50 - directP50);
  const rates = (runs: Bulk[]) => runs.map((run) => run.mbPerSecond.toFixed(0)).join(", ");
  const moved = proxied.reduce((sum, run) => sum + run.bytes, 0) / 1e9;
  const cpuMs = (field: "user" | "system") =>
    proxied.reduce((sum, run) => sum + run.proxyCpu[field], 0) / 1000 / moved;
  console.log(
    `proxy bench: node ${process.version}, ${availableParallelism()} cores; client, servers and proxy on separate threads`,
  );
  console.log(
    `bulk ${WRITE_BYTES / 1024} KiB writes, ${BULK_RUNS} runs of ${BULK_RUN_MS} ms, MB = 10^6 bytes: ` +
      `direct ${rates(direct)} MB/s, through proxy ${rates(proxied)} MB/s; ` +
      `through proxy is ${((100 * bestProxied) / bestDirect).toFixed(0)}% of direct (best runs), ` +
      `${((100 * median(proxied)) / median(direct)).toFixed(0)}% (median runs)`,
  );
  console.log(
    `proxy thread CPU per GB moved: ${cpuMs("user").toFixed(0)} ms user, ${cpuMs("system").toFixed(0)} ms system (read and write syscalls)`,
  );
  console.log(
    `round trip of ${PING_BYTES}-byte messages, ${PING_BLOCKS * PING_ROUNDS} each: ` +
      `direct p50 ${directP50.toFixed(0)} µs p99 ${percentile(directRtts, 0.99).toFixed(0)} µs; ` +
      `through proxy p50 ${proxiedP50.toFixed(0)} µs p99 ${percentile(proxiedRtts, 0.99).toFixed(0)} µs`,
  );
  console.log(
    `proxy.throughput_mb_s=${bestProxied.toFixed(1)} direct.throughput_mb_s=${bestDirect.toFixed(1)} ` +
      `proxy.added_latency_p50_us=${added.toFixed(0)}`,
  );
}

async function createProxy(url: string, name: string, upstreamPort: number): Promise<number> {
  const response = await fetch(`${url}/proxies`, {
    method: "POST",
    body: JSON.stringify({ name, listen: "127.0.0.1:0", upstream: `127.0.0.1:${upstreamPort}` }),
  });
  if (response.status !== 201) throw new Error(`creating proxy ${name}: ${await response.text()}`);
  const { listen } = (await response.json()) as { listen: string };
  return Number(listen.slice(listen.lastIndexOf(":") + 1));
}

interface Bulk {
  bytes: number;
  mbPerSecond: number;
  /** CPU the main thread (the proxy's) spent during the run, in µs. */
  proxyCpu: NodeJS.CpuUsage;
}

/** What the sink measured, first byte to last, while the client wrote for a fixed time. */
async function bulk(client: Worker, servers: Worker, port: number): Promise<Bulk> {
  const measured = nextReply(servers);
  const cpuBefore = process.threadCpuUsage();
  await ask(client, { kind: "bulk", port, durationMs: BULK_RUN_MS });
  const [bytes, ms] = ((await measured) as Extract<Reply, { kind: "done" }>).values as [
    number,
    number,
  ];
  return {
    bytes,
    mbPerSecond: bytes / 1e6 / (ms / 1000),
    proxyCpu: process.threadCpuUsage(cpuBefore),
  };
}

async function ask(worker: Worker, request: Request): Promise<number[]> {
  const reply = nextReply(worker);
  worker.postMessage(request);
  return ((await reply) as Extract<Reply, { kind: "done" }>).values;
}

async function nextReply(worker: Worker): Promise<Reply> {
  const lost = new AbortController();
  try {
    const [reply] = (await Promise.race([
      once(worker, "message", { signal: lost.signal }),
      once(worker, "error", { signal: lost.signal }).then(([error]) =>
        Promise.reject(error as Error),
      ),
    ])) as [Reply];
    return reply;
  } finally {
    lost.abort();
  }
}

function median(runs: readonly Bulk[]): number {
  return percentile(
    runs.map((run) => run.mbPerSecond),
    0.5,
  );
}

function percentile(values: readonly number[], rank: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(rank * sorted.length))] ?? 0;
}

// --- worker threads -------------------------------------------------------------------------

/** A sink that reports bytes and first-to-last-byte ms per connection, and an echo server. */
async function runServers(port: NonNullable<typeof parentPort>): Promise<void> {
  const sink = createServer({ noDelay: true }, (socket) => {
    let bytes = 0;
    let firstAt = 0;
    let lastAt = 0;
    socket.on("data", (data: Buffer) => {
      lastAt = performance.now();
      if (bytes === 0) firstAt = lastAt;
      bytes += data.length;
    });
    socket.on("end", () => {
      socket.end();
      port.postMessage({ kind: "done", values: [bytes, lastAt - firstAt] } satisfies Reply);
    });
  });
  const echo = createServer({ noDelay: true }, (socket) => socket.pipe(socket));
  for (const server of [sink, echo]) server.listen(0, "127.0.0.1");
  await Promise.all([once(sink, "listening"), once(echo, "listening")]);
  const portOf = (server: typeof sink) => (server.address() as AddressInfo).port;
  port.postMessage({ kind: "ports", sink: portOf(sink), echo: portOf(echo) } satisfies Reply);
}

function runClient(port: NonNullable<typeof parentPort>): void {
  port.on("message", (request: Request) => {
    const run =
      request.kind === "bulk"
        ? writeFor(request.port, request.durationMs)
        : pingPong(request.port, request.rounds);
    void run.then((values) => port.postMessage({ kind: "done", values } satisfies Reply));
  });
}

async function openSocket(port: number): Promise<Socket> {
  const socket = connect({ port, host: "127.0.0.1", noDelay: true });
  await once(socket, "connect");
  return socket;
}

async function writeFor(port: number, durationMs: number): Promise<number[]> {
  const socket = await openSocket(port);
  const chunk = Buffer.alloc(WRITE_BYTES, 0x61);
  const until = performance.now() + durationMs;
  while (performance.now() < until) {
    if (!socket.write(chunk)) await once(socket, "drain");
  }
  socket.end();
  socket.resume();
  await once(socket, "close");
  return [];
}

/** Round-trip times in µs of `rounds` sequential small messages. */
async function pingPong(port: number, rounds: number): Promise<number[]> {
  const socket = await openSocket(port);
  const message = Buffer.alloc(PING_BYTES, 0x62);
  const rtts: number[] = [];
  let pending = 0;
  let sentAt = 0n;
  let done: () => void = () => {};
  socket.on("data", (data: Buffer) => {
    pending -= data.length;
    if (pending > 0) return;
    rtts.push(Number(process.hrtime.bigint() - sentAt) / 1000);
    if (rtts.length === rounds) done();
    else send();
  });
  const send = (): void => {
    pending = PING_BYTES;
    sentAt = process.hrtime.bigint();
    socket.write(message);
  };
  await new Promise<void>((resolve) => {
    done = resolve;
    send();
  });
  socket.destroy();
  return rtts;
}

if (!isMainThread && parentPort !== null) {
  const role = (workerData as { role?: string } | null)?.role;
  if (role === ROLE_SERVERS) void runServers(parentPort);
  if (role === ROLE_CLIENT) runClient(parentPort);
}

if (isMainThread && import.meta.main) await benchProxy();
