#!/usr/bin/env -S MALLOC_ARENA_MAX=1 UV_THREADPOOL_SIZE=2 node --max-semi-space-size=1 --optimize-for-size
// The ferry command: runs the built CLI (npm run build produces dist/). A small young generation
// keeps the long-running daemon's memory low: it allocates little, and a 16 MB nursery would stay
// resident for nothing; --optimize-for-size trades JIT speed the daemon does not need for memory.
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
