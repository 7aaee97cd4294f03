// The scratch pipeline image: what goes in (and what does not), a content hash that changes
// with the content and only with it, and a build that is skipped when the image exists.

import { cpSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { dockerClient } from "../../harness/runtime/container/docker.ts";
import { PROJECT_ROOT } from "../../harness/runtime/container/image-inputs.ts";
import { buildPipelineImage, planImage } from "../../harness/runtime/container/image.ts";
import { describeContainers, spillway } from "./support.ts";

const copies: string[] = [];
afterAll(() => {
  for (const copy of copies) rmSync(copy, { recursive: true, force: true });
});

/** The project's sources in a temp dir, sharing node_modules, to change a file safely. */
function projectCopy(): string {
  const root = mkdtempSync(path.join(tmpdir(), "spillway-image-test-"));
  copies.push(root);
  for (const dir of ["pipeline", "harness"])
    cpSync(path.join(PROJECT_ROOT, dir), path.join(root, dir), { recursive: true });
  symlinkSync(path.join(PROJECT_ROOT, "node_modules"), path.join(root, "node_modules"));
  return root;
}

it("holds the Node binary, its loader and libc, the component entry and its packages, and no dev or harness-only package", async () => {
  const targets = (await planImage()).files.map((file) => file.target);
  expect(targets).toContain("/usr/local/bin/node");
  expect(targets.some((target) => /\/ld-linux[^/]*\.so/.test(target))).toBe(true);
  expect(targets.some((target) => /\/libc\.so\.6$/.test(target))).toBe(true);
  expect(targets).toContain("/app/pipeline/host/main.ts");
  expect(targets).toContain("/app/harness/runtime/container/toxiproxy-main.ts");
  expect(targets).toContain("/app/node_modules/pino/package.json");
  for (const absent of ["vitest", "testcontainers", "typescript", "execa"])
    expect(targets.filter((target) => target.startsWith(`/app/node_modules/${absent}/`))).toEqual(
      [],
    );
  expect(targets.filter((target) => target.startsWith("/app/test/"))).toEqual([]);
});

it("has a content hash that is stable, and changes when a file that goes in changes", async () => {
  const root = projectCopy();
  const before = await planImage(root);
  expect((await planImage(root)).hash).toBe(before.hash);
  writeFileSync(path.join(root, "harness", "experiment", "unrelated.ts"), "export {};\n");
  expect((await planImage(root)).hash).toBe(before.hash);
  writeFileSync(path.join(root, "pipeline", "core", "limits.ts"), "\n// changed\n", { flag: "a" });
  const after = await planImage(root);
  expect(after.hash).not.toBe(before.hash);
  expect(after.name).toMatch(/^spillway-pipeline:[0-9a-f]{16}$/);
});

describeContainers("spillway images build", () => {
  it(
    "builds once, then finds the image by its content and does not rebuild; the image carries testcontainers' labels",
    { timeout: 120_000 },
    async () => {
      const first = await buildPipelineImage();
      const again = await spillway(["images", "build", "--json"], { timeout: 60_000 });
      expect(again.exitCode, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ name: first.name, built: false });
      const docker = (await dockerClient()).container.dockerode;
      const labels = (await docker.getImage(first.name).inspect()).Config.Labels;
      expect(labels).toMatchObject({
        "org.testcontainers": "true",
        "spillway.image-hash": first.hash,
      });
    },
  );
});
