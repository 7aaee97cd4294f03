// The container runtime's command-line options: bad combinations are bad input naming the flag
// and the value, found before anything starts; the new commands' help is there. No Docker needed.

import { describe, expect, it } from "vitest";
import { UsageError } from "../../harness/cli/exit.ts";
import { resolveRuntime, type RuntimeFlags } from "../../harness/cli/runtimes.ts";
import type { Runtime } from "../../harness/runtime/runtime.ts";
import { spillway } from "./support.ts";

describe("the runtime flags", () => {
  const bad: Array<[string, RuntimeFlags, RegExp]> = [
    [
      "--toxiproxy-image on host networking",
      { runtime: "container", network: "host", toxiproxyImage: "toxiproxy:x" },
      /--toxiproxy-image "toxiproxy:x" needs --network private/,
    ],
    [
      "--toxiproxy-url on a private network",
      { runtime: "container", network: "private", toxiproxyUrl: "http://127.0.0.1:9" },
      /--toxiproxy-url "http:\/\/127\.0\.0\.1:9" cannot reach the services of a private network/,
    ],
    [
      "--image on processes",
      { runtime: "process", image: "spillway-pipeline:x" },
      /--image applies to --runtime container, not --runtime process/,
    ],
    [
      "--toxiproxy-image on the simulator",
      { runtime: "sim", toxiproxyImage: "toxiproxy:x" },
      /--toxiproxy-image applies to --runtime container, not --runtime sim/,
    ],
  ];
  it.each(bad)("%s is bad input naming it", async (_name, flags, message) => {
    const failure = await resolveRuntime(flags).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(UsageError);
    expect((failure as Error).message).toMatch(message);
  });

  it("name the simulator, or make a container runtime with fault links of its own only on a private network", async () => {
    expect(await resolveRuntime({ runtime: "sim" })).toBe("sim");
    const host = (await resolveRuntime({ runtime: "container", network: "host" })) as Runtime;
    expect(host.kind).toBe("container");
    expect(host.faultLinks).toBeUndefined();
    const isolated = (await resolveRuntime({
      runtime: "container",
      network: "private",
    })) as Runtime;
    expect(isolated.faultLinks).toBeTypeOf("function");
  });
});

describe("the command line", () => {
  it("spillway run exits 2 on a bad runtime combination, naming it", async () => {
    const result = await spillway(
      ["run", "network-partition", "--runtime", "container", "--toxiproxy-image", "toxiproxy:x"],
      { timeout: 30_000 },
    );
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/--toxiproxy-image "toxiproxy:x" needs --network private/);
  });

  it("spillway images build, clean and replay document their options; images build refuses unknown ones", async () => {
    const build = await spillway(["images", "build", "--help"], { timeout: 30_000 });
    expect(build.stdout).toMatch(/--force/);
    const clean = await spillway(["clean", "--help"], { timeout: 30_000 });
    expect(clean.stdout).toMatch(/--dry-run/);
    expect(clean.stdout).toMatch(/--images/);
    const replay = await spillway(["replay", "--help"], { timeout: 30_000 });
    expect(replay.stdout).toMatch(/"process", "sim", "container", default:\s+"sim"/);
    expect((await spillway(["images", "build", "--bogus"], { timeout: 30_000 })).exitCode).toBe(2);
  });
});
