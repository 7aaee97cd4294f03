// The syslog recorder as the harness runs it: concurrent connections in either framing each
// recorded once, and a connection cut mid-frame losing only that frame, its token corrupt.

import net from "node:net";
import { beforeAll, describe, expect, it } from "vitest";
import type { EventId } from "../../../pipeline/core/event.ts";
import {
  deliveriesCounting,
  events,
  freeLoopbackPort,
  once,
  tally,
  token,
  useRecorders,
  type RunningRecorder,
} from "./support.ts";

const recorders = useRecorders();

function syslogMessage(id: EventId): string {
  return `<134>1 2024-11-14T14:00:00.000Z relay-2 app 42 - - ${token(id)}`;
}

function octetCounted(text: string): string {
  return `${Buffer.byteLength(text)} ${text}`;
}

/** Opens a connection, writes each chunk as its own write, and ends it. */
function send(port: number, chunks: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: "127.0.0.1", noDelay: true }, () => {
      for (const chunk of chunks) socket.write(chunk);
      socket.end();
    });
    socket.on("error", reject);
    socket.on("close", () => resolve());
  });
}

async function startSyslog(framing: "octet-counting" | "lf" | "auto"): Promise<{
  recorder: RunningRecorder;
  port: number;
}> {
  const port = await freeLoopbackPort();
  return { recorder: await recorders.start({ kind: "syslog", listenPort: port, framing }), port };
}

describe("syslog recorder", () => {
  let auto: { recorder: RunningRecorder; port: number };
  beforeAll(async () => {
    auto = await startSyslog("auto");
  });

  it("records each event once from concurrent connections, octet-counted, LF and CRLF framed", async () => {
    const streams = [1, 2, 3, 4].map((n) =>
      events(50, { tenant: "t1", dataset: "syslog", producer: `conn${n}` }),
    );
    const [octet, lf, crlf, mixed] = streams.map((ids) => ids.map(syslogMessage));
    await Promise.all([
      send(auto.port, octet!.map(octetCounted)),
      send(
        auto.port,
        lf!.map((text) => `${text}\n`),
      ),
      send(auto.port, [crlf!.map((text) => `${text}\r\n`).join("")]),
      send(
        auto.port,
        mixed!.map((text, index) => (index % 2 === 0 ? octetCounted(text) : `${text}\n`)),
      ),
    ]);
    const all = streams.flat();
    const { whole, corrupt } = tally(
      await deliveriesCounting(auto.recorder, { whole: all.length }),
    );
    expect(whole).toEqual(once(all));
    expect(corrupt.size).toBe(0);
  });

  it("a connection that ends mid-frame loses only that frame: its cut token is corrupt", async () => {
    const ids = events(4, { tenant: "t1", dataset: "syslog", producer: "cut" });
    const [first, second, third, cutShort] = ids.map(syslogMessage) as [
      string,
      string,
      string,
      string,
    ];
    // The last frame announces its whole length, but the connection ends 6 bytes short of it,
    // inside the token's padding.
    const announced = Buffer.byteLength(cutShort);
    await send(auto.port, [
      octetCounted(first),
      octetCounted(second),
      octetCounted(third),
      `${announced} ${cutShort.slice(0, -6)}`,
    ]);
    const { whole, corrupt } = tally(
      await deliveriesCounting(auto.recorder, { whole: 3, corrupt: 1 }),
    );
    expect([...whole.keys()].filter((key) => key.includes("/cut/"))).toEqual([
      "t1/syslog/cut/1",
      "t1/syslog/cut/2",
      "t1/syslog/cut/3",
    ]);
    expect(corrupt).toEqual(once([ids[3]!]));
  });

  it("octet-counting and lf framing, each forced, frame as told", async () => {
    const [octet, lf] = await Promise.all([startSyslog("octet-counting"), startSyslog("lf")]);
    const ids = events(20, { tenant: "t2", dataset: "syslog", producer: "forced" });
    // Under octet-counting, a message may carry newlines; under lf, one may start with digits
    // and a space (auto would take them for a length).
    await Promise.all([
      send(
        octet.port,
        ids.map((id) => octetCounted(`<13>1 line one\n${syslogMessage(id)}`)),
      ),
      send(
        lf.port,
        ids.map((id) => `17 ${syslogMessage(id)}\n`),
      ),
    ]);
    for (const { recorder } of [octet, lf]) {
      const { whole, corrupt } = tally(await deliveriesCounting(recorder, { whole: ids.length }));
      expect(whole).toEqual(once(ids));
      expect(corrupt.size).toBe(0);
    }
  });
});
