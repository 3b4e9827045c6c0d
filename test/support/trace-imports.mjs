// Records every module a process resolves, one URL a line, in the file named by
// FERRY_TRACE_IMPORTS: `node --import ./test/support/trace-imports.mjs bin/ferry.js status`.
// Loaded with --import it registers itself as the loader's hooks (which run in their own thread).
import { appendFileSync } from 'node:fs';
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) register(import.meta.url);

/** The resolve hook: every import, static or dynamic, of ESM code (a package's entry included). */
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  const file = process.env.FERRY_TRACE_IMPORTS;
  if (file) appendFileSync(file, `${resolved.url}\n`);
  return resolved;
}
