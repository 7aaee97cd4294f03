// `spillway toxiproxy`: flag parsing, and the standalone server spawned as a real process.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { Toxiproxy } from "toxiproxy-node-client";
import { describe, expect, it } from "vitest";
import { parseToxiproxyArgs, UsageError } from "../../harness/toxiproxy/cli.ts";
import { tcpServer, useCleanup, type Defer } from "./helpers.ts";

const MAIN = join(import.meta.dirname, "../../harness/toxiproxy/main.ts");

describe("spillway toxiproxy flags", () => {
  it("defaults to 127.0.0.1:8474 with no config", () => {
    expect(parseToxiproxyArgs([])).toEqual({
      kind: "run",
      options: { host: "127.0.0.1", port: 8474 },
    });
  });

  it("takes Go-style single-dash flags, double dashes and = values alike", () => {
    const expected = {
      kind: "run",
      options: { host: "::1", port: 9000, config: "c.json", seed: 5, busyPollUs: 200 },
    };
    expect(
      parseToxiproxyArgs([
        ...["-host", "::1", "-port", "9000", "-config", "c.json", "-seed", "5"],
        ...["-busy-poll-us", "200"],
      ]),
    ).toEqual(expected);
    expect(
      parseToxiproxyArgs([
        ...["--host=::1", "--port=9000", "--config", "c.json", "-seed=5"],
        "--busy-poll-us=200",
      ]),
    ).toEqual(expected);
  });

  it("recognises --help, -h and -version", () => {
    expect(parseToxiproxyArgs(["--help"])).toEqual({ kind: "help" });
    expect(parseToxiproxyArgs(["-port", "1", "-h"])).toEqual({ kind: "help" });
    expect(parseToxiproxyArgs(["-version"])).toEqual({ kind: "version" });
  });

  it("accepts and ignores toxiproxy-server's metrics switches", () => {
    expect(parseToxiproxyArgs(["-proxy-metrics", "-runtime-metrics=true"])).toMatchObject({
      kind: "run",
    });
  });

  it.each([
    [["-port", "http"], 'invalid value "http" for flag -port: expected a port from 0 to 65535'],
    [["--port=70000"], 'invalid value "70000" for flag --port: expected a port from 0 to 65535'],
    [["-host", ""], 'invalid value "" for flag -host: expected a host name or IP address'],
    [["-seed", "1.5"], 'invalid value "1.5" for flag -seed: expected an integer'],
    [
      ["-busy-poll-us", "10001"],
      'invalid value "10001" for flag -busy-poll-us: expected an integer from 0 to 10000',
    ],
    [
      ["--busy-poll-us=-1"],
      'invalid value "-1" for flag --busy-poll-us: expected an integer from 0 to 10000',
    ],
    [["-port"], "flag needs an argument: -port"],
    [["-listen", "x"], "unknown flag -listen"],
    [["serve"], 'unexpected argument "serve"'],
    [["-help=maybe"], 'invalid value "maybe" for flag -help: expected true or false'],
  ])("refuses %j naming the flag and value", (argv, message) => {
    expect(() => parseToxiproxyArgs(argv)).toThrow(new UsageError(message));
  });
});

describe("spillway toxiproxy as a standalone process", () => {
  const defer = useCleanup();

  function spawn(defer: Defer, args: string[]): ResultPromise<{ reject: false }> {
    const child = execa(process.execPath, [MAIN, ...args], { reject: false });
    defer(() => child.kill("SIGKILL"));
    return child;
  }

  /** Resolves with the API URL once the server says it is listening. */
  function listeningUrl(child: ResultPromise<{ reject: false }>): Promise<string> {
    return new Promise((resolve, reject) => {
      let output = "";
      child.stdout?.on("data", (data: Buffer) => {
        output += data.toString();
        const url = /listening on (http:\/\/\S+)/.exec(output)?.[1];
        if (url !== undefined) resolve(url);
      });
      void child.then((result) =>
        reject(new Error(`exited before listening: ${result.all ?? result.stderr}`)),
      );
    });
  }

  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), "spillway-toxiproxy-"));
    defer(() => rm(dir, { recursive: true, force: true }));
    return dir;
  }

  it("serves /version, populates from -config and exits 0 on SIGTERM", async () => {
    const upstream = await tcpServer(defer, (socket) => socket.end("through the proxy"));
    const config = join(await tempDir(), "toxiproxy.json");
    await writeFile(
      config,
      JSON.stringify([{ name: "logs", listen: "127.0.0.1:0", upstream: upstream.address }]),
    );
    const child = spawn(defer, ["-host", "127.0.0.1", "-port", "0", "-config", config]);
    const url = await listeningUrl(child);
    const toxiproxy = new Toxiproxy(url);
    expect(JSON.parse(await toxiproxy.getVersion())).toEqual({ version: "2.12.0" });
    const logs = await toxiproxy.get("logs");
    expect(logs.toJson()).toMatchObject({
      name: "logs",
      upstream: upstream.address,
      enabled: true,
    });
    child.kill("SIGTERM");
    const result = await child;
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain("SIGTERM received, closing");
  });

  it("exits 2 naming the flag and value for a bad flag", async () => {
    const result = await spawn(defer, ["-port", "eighty"]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain('invalid value "eighty" for flag -port');
  });

  it("exits 2 for a -config file that is not a proxy list", async () => {
    const config = join(await tempDir(), "bad.json");
    await writeFile(config, JSON.stringify([{ listen: "127.0.0.1:0" }]));
    const result = await spawn(defer, ["-port", "0", "-config", config]);
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`invalid value "${config}" for flag -config`);
    expect(result.stderr).toContain("missing required field: name at proxy 1");
  });

  it("exits 1 when the API port is taken", async () => {
    const taken = await tcpServer(defer, () => {});
    const result = await spawn(defer, ["-port", String(taken.port)]);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain("address already in use");
  });
});
