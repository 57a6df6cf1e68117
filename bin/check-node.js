// The Node.js version check of `virtus` and `npm test`, in plain JavaScript that old Node versions
// still parse, so that they get one line saying what to do instead of a syntax or module error.
// Run directly (`node bin/check-node.js LABEL`) it exits 2 after the line on a too old Node.
import { pathToFileURL } from "node:url";

/** The oldest Node that runs Virtus: type stripping without a flag, and zstd in node:zlib. */
export const MIN_NODE = [22, 18];

/**
 * True when `version` ("22.17.1") is older than MIN_NODE.
 * @param {string} [version]
 */
export function nodeTooOld(version = process.versions.node) {
  const [major, minor] = version.split(".").map(Number);
  return major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1]);
}

/**
 * The one line for a too old Node: the exact commands that get Node 24 and put it on PATH.
 * @param {string} label what is speaking, e.g. "virtus"
 * @param {string} [version]
 */
export function nodeAdvice(label, version = process.version) {
  const os = process.platform === "win32" ? "win" : process.platform;
  const dir = "~/.cache/virtus/node24";
  return (
    `${label}: needs Node.js ${MIN_NODE.join(".")} or newer (this is ${version}); get Node 24 and put it on PATH: ` +
    `npm i -g --prefix ${dir} node-${os}-${process.arch}@24 && export PATH=${dir}/bin:$PATH`
  );
}

/**
 * Prints the line and exits 2 when this Node is too old.
 * @param {string} label
 */
export function checkNode(label) {
  if (!nodeTooOld()) return;
  process.stderr.write(`${nodeAdvice(label)}\n`);
  process.exit(2);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  checkNode(process.argv[2] || "virtus");
}
