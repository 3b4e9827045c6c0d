// Runs the rsync strategy from source (through tsx): `sync-cli.ts <src> <dest> [exclude items...]`,
// so a test can run it as another user. Moves files in from src, as ferry install does.
import { compileExcludes } from '../excludes.js';
import { syncTree } from '../sync.js';

const [src, dest, ...excludes] = process.argv.slice(2);
if (src === undefined || dest === undefined) throw new Error('usage: sync-cli.ts <src> <dest> [exclude...]');
await syncTree(src, dest, compileExcludes(excludes), { consumeSource: true });
