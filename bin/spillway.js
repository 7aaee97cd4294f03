#!/usr/bin/env node
// The `spillway` command. The harness is TypeScript run directly by Node 24's type stripping.
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  console.error(
    `spillway needs Node 24 or newer (this is ${process.versions.node}); run it through npx or npm scripts after \`npm ci\`, which provide Node 24.`,
  );
  process.exit(2);
}
await import("../harness/cli/main.ts");
