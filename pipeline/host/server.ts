// Serves a component's handler over node:http on a loopback port. Whatever a client sends, the
// process lives on and the next request is served (docs/architecture.md §2): a request target
// that is not a URL gets 400 naming it, a body over the bound 413, a request not received in
// full within `requestTimeoutMs` 408, a handler crash a 500 and a log line.

import http from "node:http";
import type { AddressInfo } from "node:net";
import { problem } from "../core/http.ts";
import type { Limits } from "../core/limits.ts";
import type { Handler, HttpRequest, HttpResponse, Log } from "../core/seam.ts";

export interface RunningServer {
  port: number;
  close(): Promise<void>;
}

/** Node's own checks for overdue requests run this often at most. */
const MAX_TIMEOUT_CHECK_MS = 1_000;

/** Writes an answer; a client that is gone or a header Node refuses never escapes as a throw. */
function send(response: http.ServerResponse, answer: HttpResponse, log: Log): void {
  try {
    response.writeHead(answer.status, answer.headers);
    response.end(answer.body);
  } catch (error) {
    log.error("answer could not be written", { status: answer.status, error: String(error) });
    response.destroy();
  }
}

/** The request target as a URL (origin-form or absolute-form), or null when it is not one. */
function targetUrl(target: string): URL | null {
  try {
    return new URL(target, "http://localhost");
  } catch {
    return null;
  }
}

function headersOf(request: http.IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (typeof value === "string") headers[name] = value;
  }
  return headers;
}

/** Runs the handler; a throw, synchronous or not, becomes a 500 naming it. */
async function answerOf(handle: Handler, message: HttpRequest, log: Log): Promise<HttpResponse> {
  try {
    return await handle(message);
  } catch (error) {
    log.error("handler failed", { path: message.path, error: String(error) });
    return problem(500, `internal error: ${String(error)}`);
  }
}

/**
 * An HTTP server that gives every request `requestTimeoutMs` to arrive in full (then 408), and
 * closes a connection that asked for an upgrade once it is answered: Node reads nothing more on
 * it, and no server here speaks another protocol.
 */
export function createBoundedServer(
  requestTimeoutMs: number,
  listener: http.RequestListener,
): http.Server {
  return http.createServer(
    {
      noDelay: true,
      requestTimeout: requestTimeoutMs,
      headersTimeout: requestTimeoutMs,
      connectionsCheckingInterval: Math.min(MAX_TIMEOUT_CHECK_MS, requestTimeoutMs),
    },
    (request, response) => {
      if (request.headers.upgrade !== undefined) response.setHeader("connection", "close");
      listener(request, response);
    },
  );
}

export function serve(options: {
  handle: Handler;
  host: string;
  port: number;
  limits: Pick<Limits, "maxBodyBytes" | "requestTimeoutMs">;
  log: Log;
}): Promise<RunningServer> {
  const { maxBodyBytes, requestTimeoutMs } = options.limits;
  const tooLarge = problem(413, `request body exceeds ${maxBodyBytes} bytes`, {
    connection: "close",
  });
  const server = createBoundedServer(requestTimeoutMs, (request, response) => {
    const declared = Number(request.headers["content-length"] ?? 0);
    if (declared > maxBodyBytes) {
      send(response, tooLarge, options.log);
      request.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    request.on("data", (chunk: Buffer) => {
      if (refused) return;
      size += chunk.length;
      if (size > maxBodyBytes) {
        refused = true;
        send(response, tooLarge, options.log);
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => {
      if (refused) return;
      const target = request.url ?? "/";
      const url = targetUrl(target);
      if (url === null) {
        const message = `request target ${JSON.stringify(target)} is not a valid URL`;
        send(response, problem(400, message), options.log);
        return;
      }
      const message: HttpRequest = {
        method: request.method ?? "GET",
        path: url.pathname,
        query: url.searchParams,
        headers: headersOf(request),
        body: Buffer.concat(chunks).toString("utf8"),
      };
      void answerOf(options.handle, message, options.log).then((answer) =>
        send(response, answer, options.log),
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
