// Nothing left behind: a harness SIGKILLed mid-run cannot remove its containers, its private
// network, its proxy container or its run directory; `spillway clean` then does, and leaves no
// container, network, image or directory of that run. A harness sent SIGINT or SIGTERM, while
// its containers start or later, removes everything itself.

import { execa } from "execa";
import { afterAll, expect, it } from "vitest";
import { dockerClient } from "../../harness/runtime/container/docker.ts";
import { LABEL_IMAGE_HASH } from "../../harness/runtime/container/labels.ts";
import { containersOf, describeContainers, runDirsOf, runResources, spillway } from "./support.ts";
import { eventually } from "../runtime/support.ts";

const CLI = "harness/cli/main.ts";
let killedRun: string | undefined;

afterAll(async () => {
  // Whatever a failing test left of the killed run.
  if (killedRun !== undefined)
    await spillway(["clean", "--run", killedRun, "--all"], { timeout: 60_000 });
});

describeContainers("nothing left behind by the container runtime", () => {
  it(
    "after a SIGKILL of the harness mid-run, spillway clean removes the run's containers and network",
    { timeout: 120_000 },
    async () => {
      const harness = execa(
        process.execPath,
        [CLI, "run", "network-partition", "--runtime", "container", "--network", "private"],
        { reject: false, cleanup: false, stdin: "ignore" },
      );
      const pid = harness.pid!;
      const ours = () => containersOf(pid);
      // The proxy container and two services: the run is under way.
      expect(await eventually(async () => (await ours()).length >= 3, 60_000)).toBe(true);
      killedRun = (await ours())[0]!.run;
      harness.kill("SIGKILL");
      await harness;
      // A request the harness had sent before it died may still be creating a container.
      let count = -1;
      await eventually(async () => {
        const now = (await ours()).length;
        const settled = now === count;
        count = now;
        if (!settled) await new Promise((resolve) => setTimeout(resolve, 1_000));
        return settled;
      }, 20_000);
      const left = await runResources();
      expect(
        left.containers.filter((container) => container.run === killedRun).length,
      ).toBeGreaterThanOrEqual(3);
      expect(left.networks.map((network) => network.run)).toContain(killedRun);
      expect(runDirsOf(killedRun)).toHaveLength(1);

      const cleaned = await spillway(["clean"], { timeout: 60_000 });
      expect(cleaned.exitCode, cleaned.stderr).toBe(0);
      expect(cleaned.stdout).toMatch(/removed \d+ containers: /);
      expect(cleaned.stdout).toMatch(new RegExp(`removed 1 networks: spillway-${killedRun}`));
      const after = await runResources();
      expect(after.containers.filter((container) => container.run === killedRun)).toEqual([]);
      expect(after.networks.filter((network) => network.run === killedRun)).toEqual([]);
      expect(runDirsOf(killedRun)).toEqual([]);
      const docker = (await dockerClient()).container.dockerode;
      const dangling = await docker.listImages({
        filters: { label: [LABEL_IMAGE_HASH], dangling: ["true"] },
      });
      expect(dangling).toEqual([]);
      killedRun = undefined;
    },
  );

  it.each([
    { signal: "SIGINT" as const, when: "while its containers start", code: 130 },
    { signal: "SIGTERM" as const, when: "once its workload runs", code: 143 },
  ])(
    "a harness sent $signal $when removes its containers and network itself (exit $code)",
    { timeout: 120_000 },
    async ({ signal, when, code }) => {
      const harness = execa(
        process.execPath,
        [CLI, "run", "network-partition", "--runtime", "container", "--network", "private"],
        // No forced SIGKILL 5 s after the SIGTERM (execa's default): the cleanup may take longer.
        { reject: false, cleanup: false, stdin: "ignore", all: true, forceKillAfterDelay: false },
      );
      const pid = harness.pid!;
      let output = "";
      harness.all!.on("data", (chunk: Buffer) => (output += chunk.toString()));
      const ours = () => containersOf(pid);
      expect(await eventually(async () => (await ours()).length >= 3, 60_000)).toBe(true);
      const run = (await ours())[0]!.run;
      killedRun = run;
      if (when.startsWith("once")) {
        // The progress line of the warmup: every service is up and the workload is running.
        expect(await eventually(() => output.includes("] warmup"), 60_000)).toBe(true);
      }
      harness.kill(signal);
      const result = await harness;
      expect(result.exitCode, result.all).toBe(code);
      expect(result.all).toMatch(/^status +interrupted$/m);
      const after = await runResources();
      expect(after.containers.filter((container) => container.run === run)).toEqual([]);
      expect(after.networks.filter((network) => network.run === run)).toEqual([]);
      expect(runDirsOf(run)).toEqual([]);
      killedRun = undefined;
    },
  );

  it("spillway clean --dry-run lists what it would remove and removes nothing", async () => {
    const cleaned = await spillway(["clean", "--dry-run"], { timeout: 30_000 });
    expect(cleaned.exitCode).toBe(0);
    expect(cleaned.stdout).toMatch(/^would remove/m);
  });
});
