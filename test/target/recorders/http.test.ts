// The HTTP recorder as the harness runs it: NDJSON and JSON bodies on any path, the reference
// pipeline's own event lines judged by their checksum, the sink's faults refusing without
// recording, and records kept across a restart.

import { beforeAll, describe, expect, it } from "vitest";
import { encodeGeneratedEvent, type EventId } from "../../../pipeline/core/event.ts";
import {
  events,
  freeLoopbackPort,
  once,
  tally,
  token,
  useRecorders,
  type RunningRecorder,
} from "./support.ts";

const recorders = useRecorders();

async function post(url: string, body: string): Promise<Response> {
  return fetch(url, { method: "POST", body, headers: { "content-type": "application/json" } });
}

async function setFault(recorder: RunningRecorder, fault: Record<string, unknown>): Promise<void> {
  const answer = await post(`${recorder.url()}/fault`, JSON.stringify(fault));
  expect(answer.status).toBe(200);
}

function stream(producer: string): { tenant: string; dataset: string; producer: string } {
  return { tenant: "t1", dataset: "http", producer };
}

describe("http recorder", () => {
  let recorder: RunningRecorder;
  let listenUrl: string;
  beforeAll(async () => {
    const listenPort = await freeLoopbackPort();
    recorder = await recorders.start({ kind: "http", listenPort });
    listenUrl = `http://127.0.0.1:${listenPort}`;
  });

  it("records tokens in NDJSON lines and in a JSON array, and native event lines by checksum", async () => {
    const wrapped = events(5, stream("ndjson"));
    const inArray = events(5, stream("array"));
    const native = events(5, stream("native"));
    const forged: EventId = { ...stream("native"), seq: 6 };
    const ndjson = wrapped.map((id) => JSON.stringify({ message: `relayed ${token(id)}` }));
    const array = JSON.stringify(inArray.map((id) => ({ host: "h", msg: token(id) })));
    const nativeLines = [
      ...native.map((id) => encodeGeneratedEvent(id, 32)),
      JSON.stringify({ ...forged, payload: "00000000forged" }),
    ];
    const answers = await Promise.all([
      post(`${listenUrl}/ingest/logs`, ndjson.join("\n") + "\n"),
      post(`${listenUrl}/`, array),
      post(`${listenUrl}/any/path`, nativeLines.join("\n")),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 200, 200]);
    expect(await answers[2]!.json()).toEqual({ received: 5, corrupt: 1 });
    const { whole, corrupt } = tally(await recorder.deliveries());
    expect(whole).toEqual(once([...wrapped, ...inArray, ...native]));
    expect(corrupt).toEqual(once([forged]));
  });

  it("under the sink's error fault answers 503 and records nothing; healed, it records", async () => {
    const refused = events(3, stream("faulted"));
    const body = refused.map((id) => token(id)).join("\n");
    await setFault(recorder, { mode: "error", status: 503 });
    try {
      expect((await post(`${listenUrl}/x`, body)).status).toBe(503);
      const { whole } = tally(await recorder.deliveries());
      expect([...whole.keys()].filter((key) => key.includes("/faulted/"))).toEqual([]);
    } finally {
      await setFault(recorder, { mode: "none" });
    }
    expect((await post(`${listenUrl}/x`, body)).status).toBe(200);
    const { whole } = tally(await recorder.deliveries());
    expect([...whole.keys()].filter((key) => key.includes("/faulted/"))).toHaveLength(3);
  });

  it("under the throttle fault answers 429 with the fault's Retry-After", async () => {
    await setFault(recorder, { mode: "throttle", retryAfterMs: 2_500 });
    try {
      const answer = await post(`${listenUrl}/x`, token({ ...stream("throttled"), seq: 1 }));
      expect(answer.status).toBe(429);
      expect(answer.headers.get("retry-after-ms")).toBe("2500");
    } finally {
      await setFault(recorder, { mode: "none" });
    }
  });

  it("keeps its records across a restart, and records after it on the same ports", async () => {
    const before = tally(await recorder.deliveries()).whole;
    await recorder.service.kill("SIGKILL");
    await recorder.service.start();
    expect(tally(await recorder.deliveries()).whole).toEqual(before);
    const after = events(4, stream("after-restart"));
    expect((await post(`${listenUrl}/x`, after.map((id) => token(id)).join("\n"))).status).toBe(
      200,
    );
    // A 200 means durable: the records hold them already.
    const { whole } = tally(await recorder.deliveries());
    expect(whole).toEqual(new Map([...before, ...once(after)]));
  });
});
