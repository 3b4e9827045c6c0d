import path from 'node:path';
import { build, type Metafile } from 'esbuild';

const ROOT = path.resolve(import.meta.dirname, '../..');

/**
 * What a process loads when it starts from `entry` (a path from the repository's root): the modules
 * it reaches by static imports (a dynamic import, such as an S3 source's SDK, loads only when used),
 * with the packages they name.
 */
export async function staticImports(entry: string): Promise<{ files: string[]; packages: string[] }> {
  const packages = new Set<string>();
  const result = await build({
    entryPoints: [path.join(ROOT, entry)],
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    logLevel: 'silent',
    plugins: [
      {
        name: 'packages-outside',
        setup(esbuild) {
          esbuild.onResolve({ filter: /^[^./]/ }, (args) => ({ path: args.path, external: true }));
        },
      },
    ],
  });
  const inputs: Metafile['inputs'] = result.metafile.inputs;
  const start = path.relative(process.cwd(), path.join(ROOT, entry));
  const seen = new Set<string>([start]);
  const queue = [start];
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    for (const imported of inputs[file]?.imports ?? []) {
      if (imported.kind === 'dynamic-import') continue;
      if (imported.external) {
        if (!imported.path.startsWith('node:')) packages.add(imported.path.split('/')[0]!);
      } else if (!seen.has(imported.path)) {
        seen.add(imported.path);
        queue.push(imported.path);
      }
    }
  }
  return {
    files: [...seen].map((file) => path.relative(ROOT, path.resolve(file))).sort(),
    packages: [...packages].sort(),
  };
}
