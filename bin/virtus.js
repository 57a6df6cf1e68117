#!/usr/bin/env node
// The `virtus` command. In a source checkout Node (>= 22.18) runs the TypeScript sources directly
// (type stripping); an installed package runs the JavaScript compiled into dist/ (Node refuses to
// strip types under node_modules).
import { existsSync } from "node:fs";
import { checkNode } from "./check-node.js";

checkNode("virtus");
const source = new URL("../src/cli/main.ts", import.meta.url);
const inSourceCheckout = existsSync(source) && !source.pathname.includes("/node_modules/");
await import(inSourceCheckout ? source.href : "../dist/cli/main.js");
