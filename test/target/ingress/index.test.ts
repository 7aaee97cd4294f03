// The ingress description of a target file, and the sender createIngress makes of it.

import { describe, expect, it } from "vitest";
import { createIngress, ingressSchema } from "../../../harness/target/ingress/index.ts";
import { syslogIngress } from "../../../harness/target/ingress/syslog.ts";
import { redisStreamsIngress } from "../../../harness/target/ingress/redis-streams.ts";

const address = { host: "127.0.0.1", port: 9 };

describe("ingress schema", () => {
  it("fills in each kind's defaults", () => {
    expect(ingressSchema.parse({ kind: "http" })).toEqual({
      kind: "http",
      path: "/ingest",
      body: "native",
    });
    expect(ingressSchema.parse({ kind: "syslog" })).toEqual({
      kind: "syslog",
      framing: "octet-counting",
      format: "rfc5424",
    });
    expect(ingressSchema.parse({ kind: "redis-streams" })).toEqual({
      kind: "redis-streams",
      stream: "spillway",
    });
  });

  it("refuses an unknown field, kind or value, naming where", () => {
    const issues = (input: unknown) =>
      ingressSchema.safeParse(input).error?.issues.map((issue) => ({
        path: issue.path,
        code: issue.code,
      }));
    expect(issues({ kind: "syslog", framng: "lf" })).toEqual([
      { path: [], code: "unrecognized_keys" },
    ]);
    expect(issues({ kind: "syslog", framing: "nul" })).toEqual([
      { path: ["framing"], code: "invalid_value" },
    ]);
    expect(issues({ kind: "kafka" })).toEqual([{ path: ["kind"], code: "invalid_union" }]);
    expect(issues({ kind: "http", path: "ingest" })).toEqual([
      { path: ["path"], code: "invalid_format" },
    ]);
    expect(issues({ kind: "http", body: "json" })).toEqual([
      { path: ["body"], code: "invalid_value" },
    ]);
    expect(issues({ kind: "redis-streams", maxlen: 0 })).toEqual([
      { path: ["maxlen"], code: "too_small" },
    ]);
  });
});

describe("createIngress", () => {
  it("makes the sender of each kind, which states its acknowledgement", async () => {
    const made = [
      { kind: "http", path: "/ingest" },
      { kind: "syslog", framing: "lf", format: "rfc3164" },
      { kind: "redis-streams", stream: "events" },
    ].map((spec) => createIngress(ingressSchema.parse(spec), address, { payloadChars: 16 }));
    expect(made.map((ingress) => [ingress.kind, ingress.acknowledgement])).toEqual([
      ["http", "a 2xx answer to the POST of the batch"],
      ["syslog", "written to the TCP socket without error (a syslog client learns nothing more)"],
      [
        "redis-streams",
        "XADD answered with an entry id (inside MULTI/EXEC, all the batch's entries or none)",
      ],
    ]);
    await Promise.all(made.map((ingress) => ingress.close()));
  });

  it("refuses bad options, naming the field and the value", () => {
    const syslog = { ...address, framing: "lf", format: "rfc5424", payloadChars: 16 } as const;
    expect(() => syslogIngress({ ...syslog, appName: "my app" })).toThrow(
      'syslog appName is "my app"',
    );
    expect(() => syslogIngress({ ...syslog, payloadChars: 4 })).toThrow(
      "syslog ingress payloadChars is 4",
    );
    expect(() => syslogIngress({ ...syslog, maxAttempts: 0 })).toThrow("ingress.maxAttempts is 0");
    expect(() => redisStreamsIngress({ ...address, stream: "", payloadChars: 16 })).toThrow(
      'redis stream is ""',
    );
    // The token body carries the workload's payload length, checked like syslog's.
    const tokenBody = ingressSchema.parse({ kind: "http", body: "token" });
    expect(() => createIngress(tokenBody, address, { payloadChars: 4 })).toThrow(
      "http ingress payloadChars is 4",
    );
  });
});
