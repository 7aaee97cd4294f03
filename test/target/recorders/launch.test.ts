// How a recorder is described and launched, in process: the egress schema a target file uses,
// the command line recorderLaunch builds (read back by the recorder's own parser), and refusals
// that name the field or option and the value.

import { describe, expect, it } from "vitest";
import { egressSchema, recorderLaunch } from "../../../harness/target/recorders/launch.ts";
import { parseRecorderArguments } from "../../../harness/target/recorders/options.ts";

const paths = { dataDir: "/tmp/spillway-recorder-data" };

describe("egress schema", () => {
  it("accepts each kind as a user writes it", () => {
    for (const egress of [
      { kind: "http" },
      { kind: "http", path: "/v1/logs" },
      { kind: "syslog", framing: "octet-counting" },
      { kind: "file", path: "out/relay.log" },
      { kind: "redis-streams", stream: "logs", group: "spillway" },
    ]) {
      expect(egressSchema.parse(egress)).toEqual(egress);
    }
  });

  it("refuses unknown fields, a missing file path and an unknown framing, naming them", () => {
    const issues = (value: unknown) =>
      egressSchema.safeParse(value).error?.issues.map((issue) => [issue.path, issue.code]);
    expect(issues({ kind: "syslog", port: 514 })).toEqual([[[], "unrecognized_keys"]]);
    expect(issues({ kind: "file" })).toEqual([[["path"], "invalid_type"]]);
    expect(issues({ kind: "syslog", framing: "nul" })).toEqual([[["framing"], "invalid_value"]]);
    expect(issues({ kind: "kafka" })).toEqual([[["kind"], "invalid_union"]]);
  });
});

describe("recorderLaunch", () => {
  it("gives a command line the recorder reads back as the spec, on the port asked", () => {
    const launch = recorderLaunch(
      {
        kind: "redis-streams",
        redis: "127.0.0.1:6390",
        stream: "logs",
        destination: "relay-out",
      },
      paths,
    );
    expect(launch.dataDir).toBe(paths.dataDir);
    expect(launch.entry).toMatch(/harness\/target\/recorders\/main\.ts$/);
    expect(parseRecorderArguments(launch.argumentsFor(4321))).toEqual({
      port: 4321,
      dataDir: paths.dataDir,
      destination: "relay-out",
      instance: "recorder",
      source: {
        kind: "redis-streams",
        host: "127.0.0.1",
        port: 6390,
        stream: "logs",
        group: "spillway",
        consumer: "recorder",
      },
    });
    const syslog = recorderLaunch({ kind: "syslog", listenPort: 5140 }, paths);
    expect(parseRecorderArguments(syslog.argumentsFor(0))).toMatchObject({
      destination: "all",
      source: { kind: "syslog", listenPort: 5140, framing: "auto" },
    });
  });

  it("refuses a spec without what its kind needs, naming the field", () => {
    expect(() => recorderLaunch({ kind: "http" }, paths)).toThrow(
      'recorder of kind "http": field "listenPort" is required',
    );
    expect(() => recorderLaunch({ kind: "file" }, paths)).toThrow('field "path" is required');
  });
});

describe("recorder command line", () => {
  const base = ["--port", "0", "--data-dir", "/tmp/d"];

  it("names the option and the value it refuses", () => {
    expect(() => parseRecorderArguments([...base, "--kind", "tcp"])).toThrow(/--kind.*tcp/);
    expect(() =>
      parseRecorderArguments([...base, "--kind", "syslog", "--listen-port", "0"]),
    ).toThrow(/--listen-port.*"0" is not a fixed port/);
    expect(() =>
      parseRecorderArguments([...base, "--kind", "redis-streams", "--redis", "localhost"]),
    ).toThrow(/--redis.*"localhost" is not host:port/);
    expect(() => parseRecorderArguments([...base, "--kind", "file"])).toThrow(
      "--path is required with --kind file",
    );
    expect(() => parseRecorderArguments(base)).toThrow("--kind is required");
  });
});
