import { afterEach, beforeEach } from 'vitest';
import { makeTempDir } from './fs.js';
import { startServer } from './http-server.js';

export interface Sandbox {
  /** A fresh temp dir for the running test. */
  readonly root: string;
  /** Starts a real HTTP server on 127.0.0.1, closed after the test. */
  serve: typeof startServer;
}

/** Registers beforeEach/afterEach: each test gets a temp dir and its servers, all gone afterwards. */
export function useSandbox(): Sandbox {
  let root: { path: string; remove: () => Promise<void> } | undefined;
  const servers: { close: () => Promise<void> }[] = [];
  beforeEach(async () => {
    root = await makeTempDir();
  });
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.close()));
    await root?.remove();
  });
  return {
    get root() {
      if (!root) throw new Error('useSandbox: root is only there while a test runs');
      return root.path;
    },
    async serve(handler) {
      const server = await startServer(handler);
      servers.push(server);
      return server;
    },
  };
}
