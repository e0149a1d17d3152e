// Builds the publishable package: Runline's workspace packages are TypeScript sources that are never published,
// so they are bundled (esbuild) into dist/; every third-party import stays external and must be a declared
// dependency or peer dependency of this package, which is checked here so a tarball can never miss one.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { builtinModules } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, "..", "..");
const manifest = JSON.parse(readFileSync(path.join(here, "package.json"), "utf8"));
const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);
const packageName = (spec) => (spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]);
const undeclared = new Set();

rmSync(path.join(here, "dist"), { recursive: true, force: true });
await build({
  entryPoints: { cli: path.join(here, "src", "main.ts") },
  outdir: path.join(here, "dist"),
  outExtension: { ".js": ".mjs" },
  bundle: true,
  // ESM, so that Runline's own imports of @langchain/* go through the peer hook (bin/peer-hook.mjs).
  format: "esm",
  splitting: true,
  platform: "node",
  target: "node20",
  sourcemap: true,
  // Bundled CommonJS code may call require() and read __dirname (the dashboard page, one level up).
  banner: {
    js: [
      'import { createRequire as __runlineRequire } from "node:module";',
      'import { fileURLToPath as __runlineToPath } from "node:url";',
      "const require = __runlineRequire(import.meta.url);",
      "const __dirname = __runlineToPath(new URL('.', import.meta.url));",
    ].join("\n"),
  },
  plugins: [
    {
      name: "externals",
      setup(b) {
        b.onResolve({ filter: /^[^./]/ }, (args) => {
          if (args.path.startsWith("@runline/")) return undefined; // bundled
          if (args.path.startsWith("node:") || builtinModules.includes(args.path)) return { external: true };
          if (!declared.has(packageName(args.path))) undeclared.add(`${packageName(args.path)} (imported by ${path.relative(repo, args.importer)})`);
          return { external: true };
        });
      },
    },
  ],
});
if (undeclared.size) {
  console.error(`build: imports not declared in apps/cli/package.json:\n  ${[...undeclared].join("\n  ")}`);
  process.exit(1);
}
copyFileSync(path.join(repo, "scripts", "with-services.sh"), path.join(here, "dist", "with-services.sh"));
mkdirSync(path.join(here, "dashboard"), { recursive: true });
copyFileSync(path.join(repo, "apps", "api", "src", "dashboard", "index.html"), path.join(here, "dashboard", "index.html"));
console.log("build: dist/ ready");
