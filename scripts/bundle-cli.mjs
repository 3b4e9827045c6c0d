#!/usr/bin/env node
// Bundles the CLI's client side (dist/cli/main.js, the command modules, their handlers, what they
// import from dist/, and commander) into one file, dist/cli-bundle/main.js, and the ferry.yaml
// reader it loads when there is a file (with the YAML parser) into another: a command loads one
// or two modules instead of about 25 (or 80 with YAML), each resolved and read by the ES module loader (bench/cli.mjs).
// The handlers are still initialised only when their command runs, and V8 compiles a function
// only when it is called. What the CLI imports dynamically from outside src/cli (the daemon for
// `ferry up`, `ferry install`'s runner, the full config loader: the lint fence lists them) stays
// in dist/ and is imported from there: daemon code runs as it was built. Code both sides share may
// then exist twice in a process; FerryError is recognised across the copies by a brand
// (src/errors/ferry-error.ts), and nothing else shared holds state. Other packages stay imports
// of node_modules. The bundle sits one directory below dist/, as dist/lib/ does, so paths read
// relative to import.meta.url (src/lib/version.ts: ../../package.json) resolve the same.
import { build } from 'esbuild';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const outdir = path.join(dist, 'cli-bundle');
const cliDir = path.join(dist, 'cli') + path.sep;
rmSync(outdir, { recursive: true, force: true });

/**
 * The bundles: the CLI, with commander; and the light ferry.yaml reader with the YAML parser, which
 * only a command run with a configuration file loads (it is a third of the CLI's code).
 */
const BUNDLES = [
  { entry: path.join(dist, 'cli', 'main.js'), out: 'main.js', packages: ['commander'], client: true },
  {
    entry: path.join(dist, 'config', 'daemon-settings.js'),
    out: 'daemon-settings.js',
    packages: ['yaml'],
    client: true,
  },
  // `ferry agent`, which idles on every host of a fleet: one module instead of about 130, and only
  // the parts of zod it uses (not its 60 locales and JSON Schema tools), are megabytes of its idle
  // RSS (bench/agent-idle.mjs). The router's client and the installer stay in dist/: they find the
  // entry files of their processes next to themselves (import.meta.url).
  {
    entry: path.join(dist, 'agent', 'process', 'run-agent.js'),
    out: 'agent.js',
    packages: ['zod'],
    outside: [path.join(dist, 'router') + path.sep, path.join(dist, 'agent', 'installer') + path.sep],
    client: false,
    zodNamespace: true,
  },
  // The daemon (`ferry up`, `ferry server`), which runs for months: one module instead of about
  // 360, the parts of zod it uses, and its source kept by V8 for lazy compilation once instead of
  // per file (bench/deploy.mjs: its idle RSS). As for the agent, the router's client and the
  // installer stay in dist/, and what it imports dynamically (the etcd store, octokit, the
  // certificate factory) loads from dist/ when a setup needs it.
  {
    entry: path.join(dist, 'daemon', 'up.js'),
    out: 'daemon.js',
    packages: ['zod'],
    outside: [path.join(dist, 'router') + path.sep, path.join(dist, 'agent', 'installer') + path.sep],
    client: false,
    zodNamespace: true,
  },
];

/**
 * zod's `z` is a namespace re-exported by name (`export * as z`): imported so, esbuild keeps all of
 * zod. Imported as a namespace of zod's classic API module instead (`import * as z`), only what is
 * used stays. The file is zod's own (`zod/v4/classic/external.js`, which `zod` re-exports).
 */
function zodAsNamespace() {
  const external = path.join(root, 'node_modules', 'zod', 'v4', 'classic', 'external.js');
  return {
    name: 'zod-as-namespace',
    setup(build) {
      build.onLoad({ filter: /\.js$/ }, async (args) => {
        if (!args.path.startsWith(dist + path.sep)) return undefined;
        const text = await readFile(args.path, 'utf8');
        if (!text.includes("import { z } from 'zod';")) return undefined;
        const contents = text.replace(
          "import { z } from 'zod';",
          `import * as z from ${JSON.stringify(external)};`,
        );
        return { contents, loader: 'js', resolveDir: path.dirname(args.path) };
      });
    },
  };
}

/**
 * Keeps out of a bundle: packages it does not take in, and what it imports dynamically from dist/
 * (outside dist/cli): the other bundle, or dist/'s own file (the daemon side).
 */
function keepOutside(packages, outside = []) {
  return {
    name: 'keep-outside',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, (args) =>
        packages.some((name) => args.path === name || args.path.startsWith(`${name}/`))
          ? undefined
          : { path: args.path, external: true },
      );
      build.onResolve({ filter: /^\./, namespace: 'file' }, (args) => {
        if (!args.importer.startsWith(dist + path.sep)) return undefined;
        const target = path.resolve(args.resolveDir, args.path);
        const keptOut = outside.some((dir) => target.startsWith(dir));
        if (args.kind !== 'dynamic-import' && !keptOut) return undefined;
        if (target.startsWith(cliDir) && !keptOut) return undefined;
        const bundle = BUNDLES.find((candidate) => candidate.entry === target);
        if (bundle) return { path: `./${bundle.out}`, external: true };
        const relative = path.relative(outdir, target).split(path.sep).join('/');
        return { path: relative.startsWith('.') ? relative : `./${relative}`, external: true };
      });
    },
  };
}

/**
 * V8 keeps each module's source for lazy compilation, as one-byte characters only when every
 * character fits: one µ or em dash left in a regex or a comment doubles the bundle's memory (2.4
 * MB instead of 1.2 for the daemon's). esbuild escapes strings, not regex literals and comments;
 * an escape means the same there (a comment does not mind it).
 */
function asciiOnly(file) {
  const text = readFileSync(file, 'utf8');
  const ascii = text.replace(
    /[\u0080-\uffff]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  if (ascii !== text) writeFileSync(file, ascii);
}

const inputs = {};
for (const bundle of BUNDLES) {
  const result = await build({
    entryPoints: [bundle.entry],
    outfile: path.join(outdir, bundle.out),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // commander is CommonJS: give its require() calls a real require in the ESM bundle.
    banner: {
      js: "import { createRequire as __ferryRequire } from 'node:module'; const require = __ferryRequire(import.meta.url);",
    },
    logLevel: 'warning',
    metafile: true,
    plugins: [
      keepOutside(bundle.packages, bundle.outside),
      ...(bundle.zodNamespace ? [zodAsNamespace()] : []),
    ],
  });
  if (bundle.client) Object.assign(inputs, result.metafile.inputs);
  asciiOnly(path.join(outdir, bundle.out));
}
// What went into the client's bundles, for the test that keeps daemon code off the client path.
writeFileSync(path.join(outdir, 'meta.json'), JSON.stringify({ inputs }));
