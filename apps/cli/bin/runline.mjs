#!/usr/bin/env node
// The `runline` command. Registers tsx first (a project's graphs are TypeScript, and so is Runline in a source
// checkout), then hands over to main: the bundle in dist/ when installed, src/ in the repository.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { register as registerEsm } from "tsx/esm/api";
import { register as registerCjs } from "tsx/cjs/api";

registerEsm();
registerCjs();
const packageRoot = fileURLToPath(new URL("..", import.meta.url));
const sourceEntry = new URL("../src/main.ts", import.meta.url);
const source = existsSync(fileURLToPath(sourceEntry));
const entry = await import(source ? sourceEntry.href : new URL("../dist/cli.mjs", import.meta.url).href);
// The TypeScript source loads as CommonJS, whose exports arrive under `default`.
const main = entry.main ?? entry.default.main;
process.exitCode = await main(process.argv.slice(2), { packageRoot });
