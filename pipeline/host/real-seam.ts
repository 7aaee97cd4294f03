// Real implementations of the determinism seam: wall clock, Math.random, node:http with
// keep-alive, files under a data directory with fsync, and pino JSON logs on stdout.

import { mkdirSync } from "node:fs";
import { appendFile, open, readFile, readdir, rename, rm, type FileHandle } from "node:fs/promises";
import http from "node:http";
import path from "node:path";
import pino from "pino";
import {
  NetError,
  type Clock,
  type Disk,
  type HttpResponse,
  type Log,
  type Net,
  type OutgoingRequest,
  type Rng,
  type Seam,
} from "../core/seam.ts";

export const realClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  schedule(ms, fn) {
    const timer = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(timer) };
  },
};

export const realRng: Rng = { next: () => Math.random() };

/** The transport failure a node:net or node:http error stands for. */
export function netErrorOf(error: NodeJS.ErrnoException | NetError): NetError {
  if (error instanceof NetError) return error;
  switch (error.code) {
    case "ECONNREFUSED":
      return new NetError("refused", error.message);
    case "ECONNRESET":
    case "EPIPE":
      return new NetError("reset", error.message);
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "ENOTFOUND":
      return new NetError("unreachable", error.message);
    default:
      return new NetError("reset", `${error.code ?? "error"}: ${error.message}`);
  }
}

/** HTTP client over a keep-alive agent; every request has a deadline for the whole exchange. */
export function createRealNet(maxSockets = 64): Net & { close(): void } {
  const agent = new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  return {
    close: () => agent.destroy(),
    request(outgoing: OutgoingRequest): Promise<HttpResponse> {
      return new Promise((resolve, reject) => {
        const body = outgoing.body ?? "";
        const request = http.request(outgoing.url, {
          method: outgoing.method,
          agent,
          headers: { ...outgoing.headers, "content-length": Buffer.byteLength(body) },
        });
        // Headers and body go out as separate writes: without this, Nagle's algorithm and
        // delayed ACKs hold the body back for ~40 ms.
        request.on("socket", (socket) => socket.setNoDelay(true));
        const deadline = setTimeout(() => {
          request.destroy(
            new NetError("timeout", `no answer from ${outgoing.url} in ${outgoing.timeoutMs} ms`),
          );
        }, outgoing.timeoutMs);
        request.on("response", (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("end", () => {
            clearTimeout(deadline);
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(response.headers)) {
              if (typeof value === "string") headers[name] = value;
            }
            resolve({
              status: response.statusCode ?? 0,
              headers,
              body: Buffer.concat(chunks).toString("utf8"),
            });
          });
          response.on("error", (error) => {
            clearTimeout(deadline);
            reject(netErrorOf(error));
          });
        });
        request.on("error", (error: NodeJS.ErrnoException) => {
          clearTimeout(deadline);
          reject(netErrorOf(error));
        });
        request.end(body);
      });
    },
  };
}

/** Files in one directory; appends go through a kept-open handle so that sync is one fsync. */
export function createRealDisk(directory: string): Disk & { close(): Promise<void> } {
  mkdirSync(directory, { recursive: true });
  const handles = new Map<string, Promise<FileHandle>>();
  const pathOf = (name: string): string => {
    if (name.includes("/") || name.includes("\\") || name.startsWith(".")) {
      throw new Error(`disk file name "${name}" must be a plain file name`);
    }
    return path.join(directory, name);
  };
  const handleOf = (name: string): Promise<FileHandle> => {
    let handle = handles.get(name);
    if (handle === undefined) {
      handle = open(pathOf(name), "a");
      handles.set(name, handle);
    }
    return handle;
  };
  const closeHandle = async (name: string): Promise<void> => {
    const handle = handles.get(name);
    if (handle === undefined) return;
    handles.delete(name);
    await (await handle).close();
  };
  return {
    async append(name, data) {
      await (await handleOf(name)).appendFile(data, "utf8");
    },
    async sync(name) {
      await (await handleOf(name)).datasync();
    },
    async read(name) {
      try {
        return await readFile(pathOf(name), "utf8");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw error;
      }
    },
    async list(prefix) {
      const names = await readdir(directory);
      return names.filter((name) => name.startsWith(prefix) && !name.endsWith(".tmp")).sort();
    },
    async remove(name) {
      await closeHandle(name);
      await rm(pathOf(name), { force: true });
    },
    async replace(name, data) {
      await closeHandle(name);
      const temporary = `${pathOf(name)}.tmp`;
      await appendFile(temporary, "", "utf8");
      const handle = await open(temporary, "w");
      try {
        await handle.writeFile(data, "utf8");
        await handle.datasync();
      } finally {
        await handle.close();
      }
      await rename(temporary, pathOf(name));
    },
    async close() {
      await Promise.all([...handles.keys()].map(closeHandle));
    },
  };
}

export function createRealLog(component: string, instance: string): Log {
  const logger = pino({ base: { component, instance }, messageKey: "msg" });
  return {
    info: (message, fields) => logger.info(fields ?? {}, message),
    warn: (message, fields) => logger.warn(fields ?? {}, message),
    error: (message, fields) => logger.error(fields ?? {}, message),
  };
}

export function createRealSeam(options: {
  component: string;
  instance: string;
  dataDir: string;
}): Seam & {
  close(): Promise<void>;
} {
  const net = createRealNet();
  const disk = createRealDisk(options.dataDir);
  return {
    clock: realClock,
    rng: realRng,
    net,
    disk,
    log: createRealLog(options.component, options.instance),
    async close() {
      net.close();
      await disk.close();
    },
  };
}
