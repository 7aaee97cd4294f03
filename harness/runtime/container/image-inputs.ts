// What goes into the scratch pipeline image: the Node binary running the harness (the pinned
// `node` package, its symlinks resolved), the shared libraries ldd lists for it, the project
// files reachable by import from the component entry points, and the node_modules packages those
// files import with everything they depend on. Nothing else: no dev dependencies, no tests.

import { execa } from "execa";
import { readFile, readdir, realpath, stat } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const PROJECT_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** Where the project lives inside the image. */
export const IMAGE_APP_DIR = "/app";
export const IMAGE_NODE = "/usr/local/bin/node";

/** The scripts a container runs, relative to the project root. */
export const ENTRY_POINTS = {
  component: "pipeline/host/main.ts",
  toxiproxy: "harness/runtime/container/toxiproxy-main.ts",
} as const;

export interface ImageFile {
  /** Absolute path on this machine (symlinks allowed: the content is what is copied). */
  source: string;
  /** Absolute path inside the image. */
  target: string;
  executable: boolean;
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(?\s*)["']([^"']+)["']/g;

function specifiersOf(source: string): string[] {
  return [...source.matchAll(SPECIFIER)].map((match) => match[1]!);
}

function packageName(specifier: string): string {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/** Project files reachable from `entries` by relative import, and the packages they import. */
async function projectClosure(
  root: string,
  entries: readonly string[],
): Promise<{ files: string[]; packages: Set<string> }> {
  const files = new Set<string>();
  const packages = new Set<string>();
  const pending = entries.map((entry) => path.resolve(root, entry));
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const specifier of specifiersOf(await readFile(file, "utf8"))) {
      if (specifier.startsWith(".")) pending.push(path.resolve(path.dirname(file), specifier));
      else if (!specifier.startsWith("node:")) packages.add(packageName(specifier));
    }
  }
  return { files: [...files], packages };
}

interface PackageManifest {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

/** Node's lookup: `from`'s node_modules, then each parent's, up to the project root. */
async function resolvePackage(root: string, from: string, name: string): Promise<string | null> {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, "node_modules", name);
    if (await isDirectory(candidate)) return candidate;
    if (path.relative(root, dir) === "" || dir === path.dirname(dir)) return null;
  }
}

async function isDirectory(dir: string): Promise<boolean> {
  try {
    return (await stat(dir)).isDirectory();
  } catch {
    return false;
  }
}

/** The directories of `names` and of every package they need, transitively. */
async function packageClosure(root: string, names: Iterable<string>): Promise<string[]> {
  const found = new Set<string>();
  const pending: Array<{ from: string; name: string; optional: boolean }> = [...names].map(
    (name) => ({ from: root, name, optional: false }),
  );
  while (pending.length > 0) {
    const { from, name, optional } = pending.pop()!;
    const dir = await resolvePackage(root, from, name);
    if (dir === null) {
      if (optional) continue;
      throw new Error(`package "${name}" (needed by ${from}) is not installed: run npm ci`);
    }
    if (found.has(dir)) continue;
    found.add(dir);
    const manifest = JSON.parse(
      await readFile(path.join(dir, "package.json"), "utf8"),
    ) as PackageManifest;
    for (const dependency of Object.keys(manifest.dependencies ?? {}))
      pending.push({ from: dir, name: dependency, optional: false });
    const mayBeAbsent = { ...manifest.optionalDependencies, ...manifest.peerDependencies };
    for (const dependency of Object.keys(mayBeAbsent))
      pending.push({ from: dir, name: dependency, optional: true });
  }
  return [...found];
}

/** Every file below `dir` except nested node_modules (those are packages of their own). */
async function filesBelow(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile() || entry.isSymbolicLink())
    .map((entry) => path.join(entry.parentPath, entry.name))
    .filter((file) => !path.relative(dir, file).split(path.sep).includes("node_modules"));
}

/** The shared libraries of an executable as ldd lists them, including the dynamic loader. */
export async function sharedLibraries(executable: string): Promise<string[]> {
  let output: string;
  try {
    output = (await execa("ldd", [executable])).stdout;
  } catch (error) {
    throw new Error(
      `listing the shared libraries of ${executable} with ldd failed (${(error as Error).message.split("\n")[0]}); the scratch image needs a glibc Linux host with ldd, otherwise build images/Dockerfile`,
      { cause: error },
    );
  }
  const libraries: string[] = [];
  for (const line of output.split("\n")) {
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x[0-9a-f]+\)/.exec(line.trim());
    if (match !== null) libraries.push(match[1]!);
  }
  if (libraries.length === 0) throw new Error(`ldd found no shared library for ${executable}`);
  return libraries;
}

/** Everything the scratch image holds, sorted by its path in the image. */
export async function collectImageInputs(root = PROJECT_ROOT): Promise<ImageFile[]> {
  const node = await realpath(path.join(root, "node_modules", ".bin", "node")).catch(() => {
    throw new Error(
      `no Node binary at ${path.join(root, "node_modules", ".bin", "node")}: run npm ci (the "node" devDependency provides it)`,
    );
  });
  const { files, packages } = await projectClosure(root, Object.values(ENTRY_POINTS));
  const packageFiles = (
    await Promise.all((await packageClosure(root, packages)).map((dir) => filesBelow(dir)))
  ).flat();
  const inApp = (file: string): ImageFile => ({
    source: file,
    target: path.posix.join(IMAGE_APP_DIR, path.relative(root, file).split(path.sep).join("/")),
    executable: false,
  });
  const images: ImageFile[] = [
    { source: node, target: IMAGE_NODE, executable: true },
    ...(await sharedLibraries(node)).map((library) => ({
      source: library,
      target: library,
      executable: true,
    })),
    ...files.map(inApp),
    ...packageFiles.map(inApp),
  ];
  return images.sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
}
