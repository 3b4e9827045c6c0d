import { describe, expect, it } from 'vitest';
import { staticImports } from '../../../test/support/static-imports.js';

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
