// The I/O host: bodies over the bound get 413 (declared or streamed), and a failing handler
// becomes a 500 answer while the server keeps serving.

import http from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { json } from "../../pipeline/core/http.ts";
import { serve, type RunningServer } from "../../pipeline/host/server.ts";
import { quietLog } from "../support/in-process.ts";

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function post(
  port: number,
  body: string,
  chunked = false,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: "127.0.0.1",
        port,
        method: "POST",
        path: "/x",
        headers: chunked
          ? { "transfer-encoding": "chunked" }
          : { "content-length": Buffer.byteLength(body) },
      },
      (response) => {
        let text = "";
        response.on("data", (chunk: Buffer) => (text += chunk.toString()));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    request.on("error", reject);
    request.end(body);
  });
}

describe("component host", () => {
  it("answers 413 naming the bound for a declared oversized body", async () => {
    server = await serve({
      handle: async (r) => json(200, { size: r.body.length }),
      host: "127.0.0.1",
      port: 0,
      limits: { maxBodyBytes: 1000, requestTimeoutMs: 5_000 },
      log: quietLog,
    });
    const answer = await post(server.port, "x".repeat(2000));
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body).error).toBe("request body exceeds 1000 bytes");
  });

  it("answers 413 for a streamed (chunked) body once it passes the bound", async () => {
    server = await serve({
      handle: async (r) => json(200, { size: r.body.length }),
      host: "127.0.0.1",
      port: 0,
      limits: { maxBodyBytes: 1000, requestTimeoutMs: 5_000 },
      log: quietLog,
    });
    expect((await post(server.port, "x".repeat(5000), true)).status).toBe(413);
    expect(await post(server.port, "x".repeat(10))).toEqual({ status: 200, body: '{"size":10}\n' });
  });

  it("turns a handler failure into a 500 and keeps serving", async () => {
    let calls = 0;
    server = await serve({
      handle: async () => {
        if (calls++ === 0) throw new Error("boom");
        return json(200, { ok: true });
      },
      host: "127.0.0.1",
      port: 0,
      limits: { maxBodyBytes: 1000, requestTimeoutMs: 5_000 },
      log: quietLog,
    });
    const failed = await post(server.port, "");
    expect(failed.status).toBe(500);
    expect(JSON.parse(failed.body).error).toMatch(/boom/);
    expect((await post(server.port, "")).status).toBe(200);
  });
});
