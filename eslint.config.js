// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";

// The determinism seam (docs/architecture.md §2): component logic reaches time, randomness, network
// and disk only through the injected Clock, Rng, Net and Disk interfaces, so that the same code
// runs under real I/O (pipeline/host) and under the simulator.
const seamFolders = [
  "pipeline/core/**/*.ts",
  "pipeline/config/**/*.ts",
  "pipeline/forwarder/**/*.ts",
  "pipeline/buffer/**/*.ts",
  "pipeline/pusher/**/*.ts",
  "pipeline/sink/**/*.ts",
  "harness/workload/**/*.ts",
];
const seamMessage =
  "component logic must use the injected Clock/Net/Disk/Rng (docs/architecture.md §2)";
const forbiddenModules = [
  "fs",
  "fs/promises",
  "net",
  "http",
  "https",
  "http2",
  "dgram",
  "timers",
  "timers/promises",
  "child_process",
  "crypto",
  "worker_threads",
];

export default tseslint.config(
  { ignores: ["node_modules/**", ".spillway/**", "coverage/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" },
      ],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  {
    files: ["**/*.js"],
    languageOptions: { globals: { process: "readonly", console: "readonly" } },
  },
  {
    files: seamFolders,
    rules: {
      "no-restricted-imports": [
        "error",
        {
          paths: forbiddenModules.flatMap((name) => [
            { name, message: seamMessage },
            { name: `node:${name}`, message: seamMessage },
          ]),
        },
      ],
      "no-restricted-globals": [
        "error",
        ...[
          "Date",
          "setTimeout",
          "setInterval",
          "setImmediate",
          "clearTimeout",
          "clearInterval",
          "clearImmediate",
          "performance",
          "fetch",
          "process",
        ].map((name) => ({ name, message: seamMessage })),
      ],
      "no-restricted-properties": [
        "error",
        { object: "Math", property: "random", message: seamMessage },
        { object: "crypto", property: "randomUUID", message: seamMessage },
        { object: "globalThis", property: "setTimeout", message: seamMessage },
      ],
    },
  },
);
