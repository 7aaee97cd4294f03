// `npm run bench -- <name>`: runs bench/<name>.ts's exported `bench<Name>()`. Benchmarks print
// figures; they never pass or fail on speed.

import { readdirSync } from "node:fs";

const known = readdirSync(new URL(".", import.meta.url))
  .filter((file) => file.endsWith(".ts") && file !== "main.ts")
  .map((file) => file.slice(0, -".ts".length))
  .sort();

const names = process.argv.slice(2);
if (names.length === 0 || names.some((name) => !known.includes(name))) {
  const unknown = names.find((name) => !known.includes(name));
  console.error(
    `${unknown === undefined ? "no benchmark named" : `unknown benchmark "${unknown}"`}; expected one or more of: ${known.join(", ")}\n` +
      "usage: npm run bench -- <name> [<name>...]",
  );
  process.exit(2);
}

for (const name of names) {
  const module = (await import(`./${name}.ts`)) as Record<string, unknown>;
  const entry = module[`bench${name[0]!.toUpperCase()}${name.slice(1)}`];
  if (typeof entry !== "function") {
    console.error(
      `bench/${name}.ts does not export bench${name[0]!.toUpperCase()}${name.slice(1)}()`,
    );
    process.exit(2);
  }
  await (entry as () => Promise<void>)();
}
