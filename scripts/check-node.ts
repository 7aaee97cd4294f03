// Fails fast with a clear message when the tests are started under a Node older than 24
// (e.g. the system Node 20 instead of the one `npm ci` puts in node_modules/.bin).
const major = Number(process.versions.node.split(".")[0]);
if (major < 24) {
  console.error(
    `spillway needs Node 24 or newer, but this is Node ${process.versions.node}. ` +
      "Run `npm ci` first: it installs Node 24 into node_modules/.bin, which npm scripts put first on PATH.",
  );
  process.exit(1);
}
