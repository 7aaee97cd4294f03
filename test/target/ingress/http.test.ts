// The HTTP ingress against a tiny node:http receiver that answers the statuses a test lines up.

import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { httpIngress, type HttpIngressOptions } from "../../../harness/target/ingress/http.ts";
import type { Ingress } from "../../../harness/target/ingress/ingress.ts";
import { encodeToken, scanTokens } from "../../../harness/target/identity.ts";
import { expectEachOnce, idsOf, twoStreams } from "./support.ts";

interface Received {
  method: string | undefined;
  url: string | undefined;
  contentType: string | undefined;
  body: string;
}

/**
 * Answers each request with the next status of `statuses` (the last one repeats), and a 2xx with
 * the reference forwarder's `{ accepted }` unless `answer` says otherwise.
 */
async function receiver(statuses: number[], answer?: (body: string) => string) {
  const received: Received[] = [];
  const server: Server = createServer((request: IncomingMessage, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      received.push({
        method: request.method,
        url: request.url,
        contentType: request.headers["content-type"],
        body,
      });
      const status = statuses[Math.min(received.length, statuses.length) - 1]!;
      const accepted = body.split("\n").filter((line) => line !== "").length;
      response.writeHead(status, { "content-type": "application/json", "retry-after-ms": "1" });
      response.end(
        status < 300 && answer !== undefined
          ? answer(body)
          : JSON.stringify(status < 300 ? { accepted } : { error: `status ${status}` }),
      );
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  servers.push(server);
  const address = server.address();
  if (typeof address !== "object" || address === null) throw new Error("no port");
  return { url: `http://127.0.0.1:${address.port}`, received };
}

const servers: Server[] = [];
const opened: Ingress[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((ingress) => ingress.close()));
  await Promise.all(
    servers.splice(0).map((server) => {
      server.closeAllConnections();
      const closed = once(server, "close");
      server.close();
      return closed;
    }),
  );
});

function open(options: HttpIngressOptions): Ingress {
  const ingress = httpIngress({ maxAttempts: 3, requestTimeoutMs: 5_000, ...options });
  opened.push(ingress);
  return ingress;
}

describe("http ingress", () => {
  it("acks a batch on a 2xx answer to its NDJSON POST to the configured path", async () => {
    const { url, received } = await receiver([200]);
    const batch = twoStreams(20);
    const result = await open({ url: `${url}/`, path: "/v1/logs" }).send(batch);
    expect(result).toMatchObject({ outcome: "acked", attempts: 1, lastStatus: 200 });
    expect(result.protocolError).toBeUndefined();
    expect(received).toEqual([
      { method: "POST", url: "/v1/logs", contentType: "application/x-ndjson", body: batch.body },
    ]);
  });

  it("with the native body, counts a 2xx whose accepted is not the batch's size as a protocol error", async () => {
    const { url } = await receiver([200], () => "ok");
    const result = await open({ url }).send(twoStreams(5));
    expect(result.outcome).toBe("acked");
    expect(result.protocolError).toBe(`200 with accepted undefined for a batch of 10 events`);
  });

  it("with the token body, posts one {message: token} line per event and takes any 2xx as acked", async () => {
    const { url, received } = await receiver([200], () => "ok");
    const batch = twoStreams(5);
    const result = await open({ url, body: "token", payloadChars: 24 }).send(batch);
    expect(result).toMatchObject({ outcome: "acked", attempts: 1, protocolError: undefined });
    const lines = received[0]!.body.split("\n");
    expect(lines.pop()).toBe("");
    expect(lines).toHaveLength(batch.eventCount);
    const messages = lines.map((line) => (JSON.parse(line) as { message: string }).message);
    expect(messages[0]).toBe(encodeToken(idsOf(batch)[0]!, 24));
    const scanned = scanTokens(messages.join("\n"));
    expect(scanned.corrupt).toEqual([]);
    expectEachOnce(scanned.events, idsOf(batch));
  });

  it("refuses a token body without a payload length for its tokens", () => {
    expect(() => httpIngress({ url: "http://127.0.0.1:9", body: "token" })).toThrow(
      /http ingress payloadChars is 0, expected an integer of at least 8/,
    );
  });

  it("rejects a batch answered 400, without retrying it", async () => {
    const { url, received } = await receiver([400]);
    const result = await open({ url }).send(twoStreams(5));
    expect(result).toMatchObject({ outcome: "rejected", attempts: 1, lastStatus: 400 });
    expect(received.map((request) => request.url)).toEqual(["/ingest"]);
  });

  it("retries a batch pushed back with 503 and acks it on the 2xx that follows", async () => {
    const { url, received } = await receiver([503, 200]);
    const retries: string[] = [];
    const result = await open({ url, onRetry: (_ms, reason) => retries.push(reason) }).send(
      twoStreams(5),
    );
    expect(result).toMatchObject({ outcome: "acked", attempts: 2, lastStatus: 200 });
    expect(received).toHaveLength(2);
    expect(retries).toEqual([expect.stringMatching(/^503 /)]);
  });

  it("settles a batch waiting to retry as unknown when the ingress closes, and sends no more", async () => {
    const { url, received } = await receiver([500]);
    let retrying = (): void => {};
    const retried = new Promise<void>((resolve) => (retrying = resolve));
    const ingress = open({
      url,
      retryBaseMs: 60_000,
      retryMaxMs: 60_000,
      onRetry: () => retrying(),
    });
    const sending = ingress.send(twoStreams(5));
    await retried;
    await ingress.close();
    expect(await sending).toMatchObject({ outcome: "unknown", attempts: 1, lastStatus: 500 });
    expect(await ingress.send(twoStreams(5))).toMatchObject({ outcome: "rejected", attempts: 0 });
    expect(received).toHaveLength(1);
  });
});
