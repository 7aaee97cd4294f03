// The processes around the fault proxy in `npm run bench -- proxy` (bench/proxy.ts), forked with
// an IPC channel: `servers` runs an echo server and a discarding sink, `client` runs what it is
// asked to over TCP and answers with figures. Each is its own process, as a pipeline's services
// and the proxy between them are.
import { once } from "node:events";
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";

export type PeerRole = "servers" | "client";

export type ClientJob =
  | { kind: "ping"; port: number; rounds: number; bytes: number }
  | { kind: "bulk"; port: number; bytes: number; writeBytes: number };

export type PeerReply =
  | { kind: "ports"; echo: number; sink: number }
  /** ping: one round-trip time per round, µs. bulk: [bytes, ms] from connect to the sink's close. */
  | { kind: "done"; values: number[] }
  | { kind: "failed"; message: string };

function reply(message: PeerReply): void {
  process.send?.(message);
}

async function listen(server: Server): Promise<number> {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return (server.address() as AddressInfo).port;
}

async function runServers(): Promise<void> {
  const echo = createServer({ noDelay: true }, (socket) => {
    socket.on("error", () => {});
    socket.pipe(socket);
  });
  // Reads and drops everything; closes its side once the client's FIN arrives, so the client
  // sees the transfer end only after every byte reached this process.
  const sink = createServer({ noDelay: true }, (socket) => {
    socket.on("error", () => {});
    socket.on("end", () => socket.end());
    socket.resume();
  });
  reply({ kind: "ports", echo: await listen(echo), sink: await listen(sink) });
}

async function openSocket(port: number): Promise<Socket> {
  const socket = connect({ port, host: "127.0.0.1", noDelay: true });
  await once(socket, "connect");
  return socket;
}

/** Round-trip times in µs of `rounds` sequential messages of `bytes` over one connection. */
async function pingPong(port: number, rounds: number, bytes: number): Promise<number[]> {
  const socket = await openSocket(port);
  const message = Buffer.alloc(bytes, 0x62);
  const rtts: number[] = [];
  let pending = 0;
  let sentAt = 0n;
  const send = (): void => {
    pending = bytes;
    sentAt = process.hrtime.bigint();
    socket.write(message);
  };
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.once("close", () => reject(new Error(`connection to ${port} closed mid-ping`)));
    socket.on("data", (data: Buffer) => {
      pending -= data.length;
      if (pending > 0) return;
      rtts.push(Number(process.hrtime.bigint() - sentAt) / 1000);
      if (rtts.length === rounds) resolve();
      else send();
    });
    send();
  });
  socket.destroy();
  return rtts;
}

/** Writes `bytes` and ends; [bytes, ms] from connecting to the sink closing after the FIN. */
async function bulk(port: number, bytes: number, writeBytes: number): Promise<number[]> {
  const startedAt = performance.now();
  const socket = await openSocket(port);
  const closed = once(socket, "close");
  socket.resume();
  const chunk = Buffer.alloc(writeBytes, 0x61);
  for (let sent = 0; sent < bytes; sent += writeBytes) {
    if (!socket.write(chunk)) await once(socket, "drain");
  }
  socket.end();
  await closed;
  return [Math.ceil(bytes / writeBytes) * writeBytes, performance.now() - startedAt];
}

function runClient(): void {
  process.on("message", (job: ClientJob) => {
    const run =
      job.kind === "ping"
        ? pingPong(job.port, job.rounds, job.bytes)
        : bulk(job.port, job.bytes, job.writeBytes);
    run.then(
      (values) => reply({ kind: "done", values }),
      (error: unknown) => reply({ kind: "failed", message: (error as Error).message }),
    );
  });
}

if (import.meta.main) {
  const role = process.argv[2] as PeerRole | undefined;
  if (role === "servers") await runServers();
  else if (role === "client") runClient();
  else throw new Error(`bench/proxy/peers.ts: role "${role}" is not servers or client`);
  // The parent going away (bench done or killed) ends this process too.
  process.on("disconnect", () => process.exit(0));
}
