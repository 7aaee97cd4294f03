// Serves a component's handler over node:http on a loopback port: bounded bodies (413),
// handler crashes become 500s and a log line, never a dead process.

import http from "node:http";
import type { AddressInfo } from "node:net";
import type { Handler, HttpRequest, Log } from "../core/seam.ts";

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

function tooLarge(response: http.ServerResponse, maxBodyBytes: number): void {
  const body =
    JSON.stringify({ error: `request body exceeds ${maxBodyBytes} bytes`, status: 413 }) + "\n";
  response.writeHead(413, { "content-type": "application/json", connection: "close" });
  response.end(body);
}

export function serve(options: {
  handle: Handler;
  host: string;
  port: number;
  maxBodyBytes: number;
  log: Log;
}): Promise<RunningServer> {
  const server = http.createServer({ noDelay: true }, (request, response) => {
    const declared = Number(request.headers["content-length"] ?? 0);
    if (declared > options.maxBodyBytes) {
      tooLarge(response, options.maxBodyBytes);
      request.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let aborted = false;
    request.on("data", (chunk: Buffer) => {
      if (aborted) return;
      size += chunk.length;
      if (size > options.maxBodyBytes) {
        aborted = true;
        tooLarge(response, options.maxBodyBytes);
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => {
      if (aborted) return;
      const url = new URL(request.url ?? "/", "http://localhost");
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(request.headers)) {
        if (typeof value === "string") headers[name] = value;
      }
      const message: HttpRequest = {
        method: request.method ?? "GET",
        path: url.pathname,
        query: url.searchParams,
        headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      options.handle(message).then(
        (answer) => {
          response.writeHead(answer.status, answer.headers);
          response.end(answer.body);
        },
        (error: unknown) => {
          options.log.error("handler failed", { path: message.path, error: String(error) });
          if (response.headersSent) {
            response.destroy();
            return;
          }
          response.writeHead(500, { "content-type": "application/json" });
          response.end(
            JSON.stringify({ error: `internal error: ${String(error)}`, status: 500 }) + "\n",
          );
        },
      );
    });
    request.on("error", () => response.destroy());
  });
  server.keepAliveTimeout = 30_000;
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
