// `npm run bench -- proxy`: what the fault proxy adds, as a client outside it sees it. Four kinds
// of process, as in a real run: the bench (this process, which only directs), a client, the
// echo and discarding servers (bench/proxy/peers.ts) and the proxies, started with their CLI
// (harness/toxiproxy/main.ts): one as it comes, one with `-busy-poll-us 200`; when a
// toxiproxy-server is on PATH or in TOXIPROXY_SERVER it is started too and measured the same way
// in the same run (docs/toxiproxy.md, "What it costs").
//
// Round trip: 1-byte messages echoed over one TCP_NODELAY connection, blocks of 3,000 for each
// path in turn (direct, then each proxy without and with one latency toxic of 0 ms, a different
// proxy first in each block); the figure is the median over blocks of (the path's p50 − direct's
// p50 in the same block), beside the CPU each proxy's process spent per round trip.
// Bulk: 512 MiB in 64 KiB writes into a discarding server, from connect until the server closed
// after the FIN, median of 3 runs. Last, the round trips again with every process pinned to one
// CPU: the proxy's own cost, without the wake-ups of idle CPUs. Ends with one line per proxy,
// `proxy.added_latency_p50_us=<n> proxy.added_latency_toxic_p50_us=<n> proxy.throughput_mb_s=<n>
// direct.throughput_mb_s=<n> proxy.added_latency_one_cpu_p50_us=<n> ...`, then
// `proxy_busy_poll.…` and, with a Toxiproxy, `toxiproxy.…`. About 30 s (45 s with one).
import { execFile, fork, spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer, type AddressInfo } from "node:net";
import { availableParallelism, loadavg } from "node:os";
import { promisify } from "node:util";
import { Toxiproxy, type Proxy } from "toxiproxy-node-client";
import { splitHostPort } from "../harness/toxiproxy/address.ts";
import { cpuSecondsOf } from "../harness/experiment/cpu.ts";
import { onPath } from "../harness/target/service/executable.ts";
import type { ClientJob, PeerReply, PeerRole } from "./proxy/peers.ts";

const PING_BYTES = 1;
const PING_ROUNDS = 3000;
const PING_WARMUP_ROUNDS = 500;
const PING_BLOCKS = 5;
const BULK_BYTES = 512 * 1024 * 1024;
const BULK_WARMUP_BYTES = 64 * 1024 * 1024;
const BULK_RUNS = 3;
const WRITE_BYTES = 64 * 1024;
/** The busy-poll window of the second Spillway proxy measured: a few round trips' worth. */
const BUSY_POLL_US = 200;
const SERVER_READY_MS = 15_000;
const SERVER_EXIT_MS = 5_000;

const PEERS = new URL("./proxy/peers.ts", import.meta.url);
const PROXY_MAIN = new URL("../harness/toxiproxy/main.ts", import.meta.url);

/** A fault proxy under measurement: its process and the ports of its three proxies. */
interface ProxyUnderTest {
  /** `proxy`, `proxy_busy_poll` (ours) or `toxiproxy`: the prefix of its figures. */
  label: string;
  describe: string;
  server: ChildProcess;
  echo: number;
  echoToxic: number;
  sink: number;
}

/** What one pass of round-trip blocks found for one proxy. */
interface Latency {
  addedP50Us: number[];
  addedToxicP50Us: number[];
  /** CPU the proxy's process spent per round trip through it (Linux only). */
  cpuUsPerRoundTrip?: number;
}

interface Figures {
  /** Round trips with the processes placed by the kernel, as in a real run. */
  latency: Latency;
  /** The same with every process pinned to one CPU: the proxy's own cost, without cross-CPU wake-ups. */
  latencyOneCpu?: Latency;
  mbPerSecond: number[];
  /** CPU the proxy's process spent per GB of the bulk runs (Linux only). */
  cpuMsPerGb?: number;
}

interface Measured {
  directP50Us: number[];
  /** Undefined when the one-CPU pass was not possible; `oneCpuSkipped` says why. */
  directOneCpuP50Us?: number[];
  oneCpuSkipped?: string;
  directMbPerSecond: number[];
  figures: Figures[];
}

export async function benchProxy(): Promise<void> {
  const children: ChildProcess[] = [];
  try {
    const servers = forkPeer("servers", children);
    const ports = (await nextReply(servers)) as Extract<PeerReply, { kind: "ports" }>;
    const client = forkPeer("client", children);
    const underTest: ProxyUnderTest[] = [];
    for (const [label, flags, describe] of [
      ["proxy", [], "spillway"],
      [
        "proxy_busy_poll",
        ["-busy-poll-us", String(BUSY_POLL_US)],
        `spillway -busy-poll-us ${BUSY_POLL_US}`,
      ],
    ] as const) {
      const proxy = await startProxy(
        label,
        process.execPath,
        [PROXY_MAIN.pathname, ...flags],
        describe,
        ports,
      );
      children.push(proxy.server);
      underTest.push(proxy);
    }
    const toxiproxyPath = findToxiproxyServer();
    if (toxiproxyPath !== undefined) {
      const toxiproxy = await startProxy("toxiproxy", toxiproxyPath, [], toxiproxyPath, ports);
      children.push(toxiproxy.server);
      underTest.push(toxiproxy);
    }
    const measured = await measure(client, ports, underTest, children);
    report(measured, underTest, toxiproxyPath);
  } finally {
    await Promise.all(children.map(stopChild));
  }
}

async function measure(
  client: ChildProcess,
  ports: { echo: number; sink: number },
  underTest: readonly ProxyUnderTest[],
  everyProcess: readonly ChildProcess[],
): Promise<Measured> {
  const ping = async (port: number, rounds: number) =>
    percentile(await ask(client, { kind: "ping", port, rounds, bytes: PING_BYTES }), 0.5);
  const bulk = async (port: number, bytes: number) => {
    const [moved, ms] = (await ask(client, {
      kind: "bulk",
      port,
      bytes,
      writeBytes: WRITE_BYTES,
    })) as [number, number];
    return moved / 1e6 / (ms / 1000);
  };
  // Warm-up, discarded: JIT, connection set-up paths, TCP buffer auto-tuning.
  for (const port of [ports.sink, ...underTest.map((one) => one.sink)]) {
    await bulk(port, BULK_WARMUP_BYTES);
  }
  const free = await roundTrips(ping, ports.echo, underTest);
  const directMbPerSecond: number[] = [];
  const mbPerSecond = underTest.map((): number[] => []);
  const cpuMs = underTest.map(() => 0);
  for (let run = 0; run < BULK_RUNS; run += 1) {
    directMbPerSecond.push(await bulk(ports.sink, BULK_BYTES));
    for (const [index, one] of underTest.entries()) {
      const cpuBefore = processCpuMs(one.server.pid);
      mbPerSecond[index]!.push(await bulk(one.sink, BULK_BYTES));
      cpuMs[index]! += (processCpuMs(one.server.pid) ?? NaN) - (cpuBefore ?? NaN);
    }
  }
  // Last, since pinning cannot be undone from here: the same round trips with every process on
  // one CPU, where a wake-up is a context switch and not a wake-up of another (idle) CPU.
  const oneCpuSkipped = await pinToOneCpu(everyProcess);
  const oneCpu =
    oneCpuSkipped === undefined ? await roundTrips(ping, ports.echo, underTest) : undefined;
  const figures = underTest.map((_, index): Figures => ({
    latency: free.added[index]!,
    ...(oneCpu === undefined ? {} : { latencyOneCpu: oneCpu.added[index]! }),
    mbPerSecond: mbPerSecond[index]!,
    ...(Number.isFinite(cpuMs[index])
      ? { cpuMsPerGb: cpuMs[index]! / ((BULK_RUNS * BULK_BYTES) / 1e9) }
      : {}),
  }));
  return {
    directP50Us: free.directP50Us,
    ...(oneCpu === undefined ? { oneCpuSkipped } : { directOneCpuP50Us: oneCpu.directP50Us }),
    directMbPerSecond,
    figures,
  };
}

/**
 * A warm-up, then PING_BLOCKS blocks: in each, direct's p50, then each proxy's added p50 without
 * and with the toxic, as (the path's p50 − direct's p50 in the same block).
 */
async function roundTrips(
  ping: (port: number, rounds: number) => Promise<number>,
  directPort: number,
  underTest: readonly ProxyUnderTest[],
): Promise<{ directP50Us: number[]; added: Latency[] }> {
  for (const port of [directPort, ...underTest.flatMap((one) => [one.echo, one.echoToxic])]) {
    await ping(port, PING_WARMUP_ROUNDS);
  }
  const directP50Us: number[] = [];
  const added = underTest.map((): Latency => ({ addedP50Us: [], addedToxicP50Us: [] }));
  const cpuMs = underTest.map(() => 0);
  for (let block = 0; block < PING_BLOCKS; block += 1) {
    const direct = await ping(directPort, PING_ROUNDS);
    directP50Us.push(direct);
    // Each block starts with a different proxy, so none is always measured first after direct.
    for (let turn = 0; turn < underTest.length; turn += 1) {
      const index = (block + turn) % underTest.length;
      const one = underTest[index]!;
      const cpuBefore = processCpuMs(one.server.pid) ?? NaN;
      added[index]!.addedP50Us.push((await ping(one.echo, PING_ROUNDS)) - direct);
      added[index]!.addedToxicP50Us.push((await ping(one.echoToxic, PING_ROUNDS)) - direct);
      cpuMs[index]! += (processCpuMs(one.server.pid) ?? NaN) - cpuBefore;
    }
  }
  for (const [index, ms] of cpuMs.entries()) {
    if (Number.isFinite(ms))
      added[index]!.cpuUsPerRoundTrip = (ms * 1000) / (PING_BLOCKS * 2 * PING_ROUNDS);
  }
  return { directP50Us, added };
}

/** Pins every thread of every process to CPU 0 with taskset; the reason when it cannot. */
async function pinToOneCpu(processes: readonly ChildProcess[]): Promise<string | undefined> {
  if (availableParallelism() < 2) return "one CPU only: the figures above are already that";
  const taskset = onPath("taskset", process.env.PATH ?? "");
  if (taskset === undefined) return "no taskset on PATH (Debian package util-linux)";
  for (const child of processes) {
    if (child.pid === undefined) return "a process of the bench has no pid";
    await run(taskset, ["--all-tasks", "--pid", "--cpu-list", "0", String(child.pid)]);
  }
  return undefined;
}

function report(
  measured: Measured,
  underTest: readonly ProxyUnderTest[],
  toxiproxyPath: string | undefined,
): void {
  const { directP50Us, directOneCpuP50Us, directMbPerSecond, figures } = measured;
  const direct = percentile(directMbPerSecond, 0.5);
  const load = loadavg()
    .map((value) => value.toFixed(2))
    .join(" ");
  console.log(
    `proxy bench: node ${process.version}, ${availableParallelism()} cores, load average ${load}; ` +
      "bench, client, servers (echo and sink) and each proxy in their own process",
  );
  const latencyLines = (latencyOf: (one: Figures) => Latency | undefined): void => {
    for (const [index, one] of underTest.entries()) {
      const latency = latencyOf(figures[index]!);
      if (latency === undefined) continue;
      const { addedP50Us, addedToxicP50Us, cpuUsPerRoundTrip } = latency;
      const cpu =
        cpuUsPerRoundTrip === undefined
          ? ""
          : `; its process used ${cpuUsPerRoundTrip.toFixed(0)} µs CPU per round trip`;
      console.log(
        `  ${one.describe}: adds ${range(addedP50Us)} µs (median ${median(addedP50Us)}), ` +
          `${range(addedToxicP50Us)} µs with one 0 ms latency toxic (median ${median(addedToxicP50Us)})${cpu}`,
      );
    }
  };
  console.log(
    `round trip of ${PING_BYTES}-byte messages over one TCP_NODELAY connection, ${PING_BLOCKS} blocks of ${PING_ROUNDS} per path: ` +
      `direct p50 ${range(directP50Us)} µs`,
  );
  latencyLines((one) => one.latency);
  if (directOneCpuP50Us === undefined) {
    console.log(`the same on one CPU: skipped, ${measured.oneCpuSkipped}`);
  } else {
    console.log(
      `the same with every process pinned to CPU 0 (no wake-up of another CPU): direct p50 ${range(directOneCpuP50Us)} µs`,
    );
    latencyLines((one) => one.latencyOneCpu);
  }
  console.log(
    `bulk ${BULK_BYTES / 2 ** 20} MiB in ${WRITE_BYTES / 1024} KiB writes into a discarding server, ${BULK_RUNS} runs, MB = 10^6 bytes: ` +
      `direct ${range(directMbPerSecond)} MB/s`,
  );
  for (const [index, one] of underTest.entries()) {
    const { mbPerSecond: rates, cpuMsPerGb } = figures[index]!;
    const ratio = percentile(rates, 0.5) / direct;
    const cpu =
      cpuMsPerGb === undefined ? "" : `; its process used ${cpuMsPerGb.toFixed(0)} ms CPU per GB`;
    console.log(
      `  ${one.describe}: ${range(rates)} MB/s, ${ratio.toFixed(2)} of direct (medians)${cpu}`,
    );
  }
  if (toxiproxyPath === undefined) {
    console.log("no toxiproxy-server on PATH or in TOXIPROXY_SERVER: measured Spillway's only");
  }
  for (const [index, one] of underTest.entries()) {
    const { latency, latencyOneCpu, mbPerSecond } = figures[index]!;
    const oneCpu =
      latencyOneCpu === undefined
        ? ""
        : ` ${one.label}.added_latency_one_cpu_p50_us=${median(latencyOneCpu.addedP50Us)}` +
          ` ${one.label}.added_latency_toxic_one_cpu_p50_us=${median(latencyOneCpu.addedToxicP50Us)}`;
    console.log(
      `${one.label}.added_latency_p50_us=${median(latency.addedP50Us)} ` +
        `${one.label}.added_latency_toxic_p50_us=${median(latency.addedToxicP50Us)} ` +
        `${one.label}.throughput_mb_s=${percentile(mbPerSecond, 0.5).toFixed(1)}` +
        (index === 0 ? ` direct.throughput_mb_s=${direct.toFixed(1)}` : "") +
        oneCpu,
    );
  }
}

/** The proxy server's process, once its API answers, with an echo, echo+toxic and sink proxy. */
async function startProxy(
  label: string,
  command: string,
  args: readonly string[],
  describe: string,
  ports: { echo: number; sink: number },
): Promise<ProxyUnderTest> {
  const apiPort = await freePort();
  const server = spawn(command, [...args, "-host", "127.0.0.1", "-port", String(apiPort)], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  server.stderr?.on("data", (data: Buffer) => (stderr += data.toString()));
  const toxiproxy = new Toxiproxy(`http://127.0.0.1:${apiPort}`);
  try {
    await waitForApi(toxiproxy, server, () => stderr);
    const echo = await createProxy(toxiproxy, "bench-echo", ports.echo);
    const echoToxic = await createProxy(toxiproxy, "bench-echo-toxic", ports.echo);
    await echoToxic.addToxic({
      name: "zero-latency",
      type: "latency",
      stream: "downstream",
      toxicity: 1,
      attributes: { latency: 0, jitter: 0 },
    });
    const sink = await createProxy(toxiproxy, "bench-sink", ports.sink);
    return {
      label,
      describe,
      server,
      echo: portOf(echo),
      echoToxic: portOf(echoToxic),
      sink: portOf(sink),
    };
  } catch (error) {
    await stopChild(server);
    throw new Error(`${describe}: ${(error as Error).message}`, { cause: error });
  }
}

async function waitForApi(
  toxiproxy: Toxiproxy,
  server: ChildProcess,
  stderr: () => string,
): Promise<void> {
  const deadline = performance.now() + SERVER_READY_MS;
  while (performance.now() < deadline) {
    if (server.exitCode !== null || server.signalCode !== null) {
      throw new Error(
        `exited (${server.exitCode ?? server.signalCode}) before serving: ${stderr()}`,
      );
    }
    const ready = await toxiproxy.getVersion().then(
      () => true,
      () => false,
    );
    if (ready) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(
    `API at ${toxiproxy.host} not answering after ${SERVER_READY_MS} ms: ${stderr()}`,
  );
}

/** A proxy on a free loopback port to `upstreamPort`. */
async function createProxy(
  toxiproxy: Toxiproxy,
  name: string,
  upstreamPort: number,
): Promise<Proxy> {
  return toxiproxy.createProxy({
    name,
    listen: "127.0.0.1:0",
    upstream: `127.0.0.1:${upstreamPort}`,
  });
}

const portOf = (proxy: Proxy): number => splitHostPort(proxy.listen).port;

/** TOXIPROXY_SERVER when set, else a `toxiproxy-server` on PATH, else undefined. */
function findToxiproxyServer(): string | undefined {
  const given = process.env.TOXIPROXY_SERVER;
  if (given !== undefined && given !== "") return given;
  return onPath("toxiproxy-server", process.env.PATH ?? "");
}

/** User and system CPU ms of a process so far, from /proc; undefined where there is none. */
function processCpuMs(pid: number | undefined): number | undefined {
  const seconds = cpuSecondsOf(pid);
  return seconds === undefined ? undefined : seconds * 1000;
}

async function run(command: string, args: readonly string[]): Promise<void> {
  await promisify(execFile)(command, args);
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function forkPeer(role: PeerRole, children: ChildProcess[]): ChildProcess {
  const child = fork(PEERS, [role], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
  children.push(child);
  return child;
}

async function ask(client: ChildProcess, job: ClientJob): Promise<number[]> {
  const answer = nextReply(client);
  client.send(job);
  const reply = await answer;
  if (reply.kind !== "done")
    throw new Error(`client ${job.kind} to ${job.port}: ${JSON.stringify(reply)}`);
  return reply.values;
}

async function nextReply(child: ChildProcess): Promise<PeerReply> {
  const gone = new AbortController();
  try {
    const [reply] = (await Promise.race([
      once(child, "message", { signal: gone.signal }),
      once(child, "exit", { signal: gone.signal }).then(([code]) =>
        Promise.reject(new Error(`bench peer exited (${String(code)})`)),
      ),
    ])) as [PeerReply];
    if (reply.kind === "failed") throw new Error(reply.message);
    return reply;
  } finally {
    gone.abort();
  }
}

/** SIGTERM (a proxy closes cleanly on it), SIGKILL if it has not exited in time. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), SERVER_EXIT_MS);
  await exited;
  clearTimeout(timer);
}

function percentile(values: readonly number[], rank: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(rank * sorted.length))] ?? 0;
}

const median = (values: readonly number[]): number => Math.round(percentile(values, 0.5));

function range(values: readonly number[]): string {
  const low = Math.round(Math.min(...values));
  const high = Math.round(Math.max(...values));
  return low === high ? String(low) : `${low}–${high}`;
}

if (import.meta.main) await benchProxy();
