import path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../../..');

/**
 * What `ferry agent` loads when it starts: the modules its entry reaches by static imports (a
 * dynamic import, such as an S3 source's SDK, loads only when used), with the packages they name.
 */
async function staticImports(entry: string): Promise<{ files: string[]; packages: string[] }> {
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

describe('ferry agent', () => {
  it("loads the agent's code only: no control plane, config schema or HTTP library of its own", async () => {
    const { files, packages } = await staticImports('src/agent/process/run-agent.ts');
    expect(files).toContain('src/agent/process/agent-process.ts');
    const controlPlane =
      /^src\/(api|server|runtime|rollout|cli)\/|^src\/daemon\/daemon\.ts$|^src\/config\/(load|schema|compile|fields)\.ts$|^src\/store\/kv\//;
    expect(files.filter((file) => controlPlane.test(file))).toEqual([]);
    // node:https, not undici (its WebAssembly parser alone held some 10 MB); no YAML: there is no ferry.yaml.
    for (const heavy of ['undici', 'yaml', 'fastify', 'etcd3', '@aws-sdk', '@google-cloud'])
      expect(packages).not.toContain(heavy);
  });
});
