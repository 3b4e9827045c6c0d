import { spawn } from 'node:child_process';
import type { InstalledRelease } from '../../artifacts/index.js';
import { knownErrorCode } from '../../errors/catalog.js';
import { FerryError, type ErrorDetails } from '../../errors/ferry-error.js';
import { nodeArgsFor, siblingEntry } from '../../lib/entry.js';
import type { Installer } from './installer.js';

/** The install process's one answer. */
export type ChildAnswer =
  | { readonly installed: InstalledRelease }
  | { readonly error: { readonly code: string; readonly message: string; readonly details: ErrorDetails } };

/**
 * Each install in a process of its own. The agent idles on every host for months; an install is
 * the one heavy thing it does (a tar stream, a hash, perhaps gigabytes through its buffers), and
 * the optimised code and memory that leaves behind would stay in the agent for good. In a child,
 * it all goes when the install ends, and the agent can run lean (V8's lite mode: see
 * src/cli/actions/agent.ts) without making installs slower: the child has the full compiler.
 */
export function childInstaller(): Installer {
  const entry = siblingEntry(import.meta.url, './child-main');
  return (request) =>
    new Promise<InstalledRelease>((resolve, reject) => {
      const child = spawn(process.execPath, nodeArgsFor(entry), {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
        // One malloc arena, as bin/ferry.js gives the agent: the install streams, it does not fan out.
        env: { ...process.env, MALLOC_ARENA_MAX: '1' },
      });
      let answer: ChildAnswer | null = null;
      child.once('message', (message: ChildAnswer) => (answer = message));
      child.once('error', (error) =>
        reject(new FerryError('FERRY_E_INTERNAL', `could not start the install process: ${error.message}`)),
      );
      child.once('exit', (code, signal) => {
        const got = answer;
        if (got !== null && 'installed' in got) resolve(got.installed);
        else if (got !== null)
          reject(new FerryError(knownErrorCode(got.error.code), got.error.message, got.error.details));
        else
          reject(
            new FerryError(
              'FERRY_E_INTERNAL',
              `the install process of ${request.version} ended (${signal ?? `code ${code}`}) without an answer`,
            ),
          );
      });
      child.send(request);
    });
}
