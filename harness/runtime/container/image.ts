// Builds the scratch pipeline image (images/scratch.Dockerfile) with testcontainers, cached by
// content: the tag is a hash of every file that goes in and of the Dockerfile, so an unchanged
// project is not rebuilt, and a changed one gets a new tag. The image carries testcontainers'
// labels and the hash label; it outlives runs on purpose (that is the cache) and
// `spillway clean --images` removes it.

import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import {
  chmod,
  copyFile,
  link,
  mkdir,
  mkdtemp,
  readFile,
  realpath,
  rm,
  stat,
  writeFile,
} from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { GenericContainer, ImageName } from "testcontainers";
import { isAlive } from "../process/proc.ts";
import { dockerClient } from "./docker.ts";
import { collectImageInputs, IMAGE_APP_DIR, PROJECT_ROOT, type ImageFile } from "./image-inputs.ts";

export const IMAGE_REPOSITORY = "spillway-pipeline";
const SCRATCH_DOCKERFILE = path.join(PROJECT_ROOT, "images", "scratch.Dockerfile");
/** The project's module type for the .ts files in /app (they are ES modules). */
const APP_MANIFEST = `${JSON.stringify({ name: "spillway-image", private: true, type: "module" })}\n`;

export interface ImagePlan {
  /** `spillway-pipeline:<first 16 hex digits of the hash>`. */
  name: string;
  hash: string;
  files: ImageFile[];
  dockerfile: string;
}

export interface BuiltImage {
  name: string;
  hash: string;
  /** False when an image of that content was already there. */
  built: boolean;
  files: number;
  bytes: number;
}

async function fileDigest(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** What the image would hold and its content hash, without touching Docker. */
export async function planImage(root = PROJECT_ROOT): Promise<ImagePlan> {
  const [files, dockerfile] = await Promise.all([
    collectImageInputs(root),
    readFile(SCRATCH_DOCKERFILE, "utf8"),
  ]);
  const hash = createHash("sha256").update(dockerfile).update("\0").update(APP_MANIFEST);
  const digests = await Promise.all(files.map((file) => fileDigest(file.source)));
  files.forEach((file, index) => {
    hash.update(`\0${file.target}\0${file.executable ? "x" : "-"}\0${digests[index]}`);
  });
  const digest = hash.digest("hex");
  return { name: `${IMAGE_REPOSITORY}:${digest.slice(0, 16)}`, hash: digest, files, dockerfile };
}

/** A build context: the Dockerfile and rootfs/, hard links where possible (no 120 MB copies). */
async function writeContext(plan: ImagePlan): Promise<{ dir: string; bytes: number }> {
  const dir = await mkdtemp(path.join(tmpdir(), "spillway-image-"));
  let bytes = 0;
  try {
    await writeFile(path.join(dir, "Dockerfile"), plan.dockerfile);
    const rootfs = path.join(dir, "rootfs");
    const made = new Set<string>();
    for (const file of plan.files) {
      const destination = path.join(rootfs, file.target);
      const parent = path.dirname(destination);
      if (!made.has(parent)) {
        await mkdir(parent, { recursive: true });
        made.add(parent);
      }
      const source = await realpath(file.source);
      // A hard link shares the source's mode; only a copy may need the executable bit set.
      await link(source, destination).catch(async () => {
        await copyFile(source, destination);
        if (file.executable) await chmod(destination, 0o755);
      });
      bytes += (await stat(destination)).size;
    }
    await writeFile(path.join(rootfs, IMAGE_APP_DIR, "package.json"), APP_MANIFEST);
    // The components write their data under /data; scratch has no directories of its own.
    await mkdir(path.join(rootfs, "data"), { recursive: true });
    await mkdir(path.join(rootfs, "tmp"), { recursive: true });
    return { dir, bytes };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

export async function imageExists(name: string): Promise<boolean> {
  const client = await dockerClient();
  return client.image.exists(ImageName.fromString(name));
}

/**
 * Builds the pipeline image unless one of the same content exists (or `force`); resolves with its
 * name. `onStep` hears what is going on, for a person waiting.
 */
export async function buildPipelineImage(
  options: { force?: boolean; onStep?: (message: string) => void; root?: string } = {},
): Promise<BuiltImage> {
  const plan = await planImage(options.root);
  const summary = { name: plan.name, hash: plan.hash, files: plan.files.length };
  if (options.force !== true && (await imageExists(plan.name)))
    return { ...summary, built: false, bytes: 0 };
  // Two harnesses building the same tag at once would leave one image dangling: one at a time,
  // and the second finds the first one's image.
  const release = await lockBuilds();
  try {
    if (options.force !== true && (await imageExists(plan.name)))
      return { ...summary, built: false, bytes: 0 };
    return { ...summary, built: true, bytes: await buildFromPlan(plan, options.onStep) };
  } finally {
    await release();
  }
}

/** How long a build may hold the lock before another harness takes it as abandoned. */
const BUILD_LOCK_STALE_MS = 5 * 60_000;
const BUILD_LOCK_POLL_MS = 250;

/**
 * A lock directory in the temp dir (mkdir is atomic) naming its owner's pid; a lock whose owner
 * is dead (a SIGKILLed build), or older than any build, is taken over.
 */
async function lockBuilds(): Promise<() => Promise<void>> {
  const lock = path.join(tmpdir(), "spillway-image-build.lock");
  const owner = path.join(lock, "pid");
  for (;;) {
    try {
      await mkdir(lock);
      await writeFile(owner, String(process.pid));
      return () => rm(lock, { recursive: true, force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const [age, pid] = await Promise.all([
        stat(lock).then(
          (info) => Date.now() - info.mtimeMs,
          () => 0,
        ),
        readFile(owner, "utf8").then(Number, () => undefined),
      ]);
      if (age > BUILD_LOCK_STALE_MS || (pid !== undefined && !isAlive(pid)))
        await rm(lock, { recursive: true, force: true });
      else await sleep(BUILD_LOCK_POLL_MS);
    }
  }
}

async function buildFromPlan(
  plan: ImagePlan,
  onStep: ((message: string) => void) | undefined,
): Promise<number> {
  onStep?.(`building ${plan.name} from scratch (${plan.files.length} files)`);
  const context = await writeContext(plan);
  try {
    await GenericContainer.fromDockerfile(context.dir)
      .withBuildArgs({ SPILLWAY_IMAGE_HASH: plan.hash })
      .build(plan.name, { deleteOnExit: false });
  } catch (error) {
    throw new Error(`building ${plan.name} failed: ${(error as Error).message}`, { cause: error });
  } finally {
    await rm(context.dir, { recursive: true, force: true });
  }
  return context.bytes;
}
