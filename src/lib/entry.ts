import { fileURLToPath } from 'node:url';

/**
 * The node arguments that run one of Ferry's entry points (the router process, the daemon) as a
 * separate process. From the built tree that is plain `node dist/...js`; from the sources (tests,
 * development) the same module runs through tsx.
 */
export function nodeArgsFor(entryUrl: URL): string[] {
  const file = fileURLToPath(entryUrl);
  return file.endsWith('.ts') ? ['--import', 'tsx', file] : [file];
}

/** Resolves a sibling entry module with the same extension as the calling module (.ts or .js). */
export function siblingEntry(callerUrl: string, relativeWithoutExtension: string): URL {
  const extension = callerUrl.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`${relativeWithoutExtension}${extension}`, callerUrl);
}
