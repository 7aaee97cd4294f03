// HTTP NDJSON ingress (docs/targets.md, "Ingress"): the workload's own POST of a batch, to any
// path of the target's first hop, settled exactly as against the reference forwarder (2xx acked,
// 429/503 and 5xx retried, other statuses rejected, a transport failure unknown). The body is the
// reference pipeline's own event format (`native`), whose answer must say how many events it
// accepted, or one `{"message": <token>}` line per event (`token`), for software that is not the
// reference pipeline: any recorder finds the token, and any 2xx is an acknowledgement.

import type { Clock, Net, Rng } from "../../../pipeline/core/seam.ts";
import { createRealNet, realClock, realRng } from "../../../pipeline/host/real-seam.ts";
import { sendBatch, type SendContext } from "../../workload/send-batch.ts";
import type { Batch } from "../../workload/batch.ts";
import { encodeToken } from "../identity.ts";
import { Waits } from "../../workload/waits.ts";
import type { Ingress } from "./ingress.ts";
import {
  backoffLimits,
  checkPayloadChars,
  closedResult,
  eventIds,
  resolveSendingOptions,
  type SendingOptions,
} from "./sending.ts";

export const HTTP_ACKNOWLEDGEMENT = "a 2xx answer to the POST of the batch";
export const HTTP_PATH_DEFAULT = "/ingest";
/** A path the ingress may POST to: absolute, no query, fragment or blank. */
export const HTTP_PATH_PATTERN = /^\/[^\s?#]*$/;
/** What a batch's body holds: the reference pipeline's events, or one token per line in JSON. */
export const HTTP_BODIES = ["native", "token"] as const;
export type HttpBody = (typeof HTTP_BODIES)[number];

export interface HttpIngressOptions extends Partial<SendingOptions> {
  /** Base URL of the target's first hop, e.g. `http://127.0.0.1:4100`. */
  url: string;
  path?: string;
  /** Default `native`; `token` needs `payloadChars`. */
  body?: HttpBody;
  /** Length of the payload in each event's token (`body: token`). */
  payloadChars?: number;
  /** Default: a keep-alive node:http client of its own, which close() destroys. */
  net?: Net;
  clock?: Clock;
  rng?: Rng;
  /** Called before each retry, with the delay chosen and why. */
  onRetry?: (delayMs: number, reason: string) => void;
}

export function httpIngress(options: HttpIngressOptions): Ingress {
  const path = options.path ?? HTTP_PATH_DEFAULT;
  if (!HTTP_PATH_PATTERN.test(path)) {
    throw new Error(
      `ingress path is ${JSON.stringify(path)}, expected an absolute path like /ingest`,
    );
  }
  const body = options.body ?? "native";
  const payloadChars = options.payloadChars ?? 0;
  if (body === "token") checkPayloadChars("http", payloadChars);
  const sending = resolveSendingOptions(options);
  const ownNet = options.net === undefined ? createRealNet() : undefined;
  const waits = new Waits(options.clock ?? realClock);
  const context: SendContext = {
    net: options.net ?? (ownNet as Net),
    rng: options.rng ?? realRng,
    ingestUrl: `${options.url.replace(/\/+$/, "")}${path}`,
    options: sending,
    // `accepted` is the reference forwarder's answer; other software answers what it likes.
    checksAccepted: body === "native",
    limits: backoffLimits(sending),
    delay: (ms) => waits.wait(ms),
    onRetry: options.onRetry ?? (() => {}),
  };
  let closed = false;
  return {
    kind: "http",
    acknowledgement: HTTP_ACKNOWLEDGEMENT,
    send: (batch) =>
      closed
        ? Promise.resolve(closedResult("http"))
        : sendBatch(
            context,
            body === "native" ? batch.body : tokenLines(batch, payloadChars),
            batch.eventCount,
          ),
    async close() {
      if (closed) return;
      closed = true;
      // A batch waiting to retry settles at once; one in flight fails in transport when its own
      // client is destroyed (unknown), or gets its answer from a client the caller owns.
      waits.close();
      ownNet?.close();
    },
  };
}

/** One `{"message":"<token>"}` line per event of `batch` (docs/targets.md, "Identity"). */
export function tokenLines(batch: Batch, payloadChars: number): string {
  let lines = "";
  for (const id of eventIds(batch))
    lines += `${JSON.stringify({ message: encodeToken(id, payloadChars) })}\n`;
  return lines;
}
