#!/usr/bin/env -S MALLOC_ARENA_MAX=1 UV_THREADPOOL_SIZE=2 node
// The ferry command: runs the built CLI (npm run build produces dist/). One malloc arena and a
// small thread pool keep the long-running daemon's memory low and cost a one-shot command nothing.
// No V8 flags here: --optimize-for-size and --max-semi-space-size=1 each added about 11 ms to every
// command's start; `ferry up` sets --optimize-for-size for itself (src/daemon/up.ts), which keeps
// the daemon's memory as low as both flags did (bench/deploy.mjs, bench/cli.mjs).
import { main } from '../dist/cli-bundle/main.js';

process.exitCode = await main(process.argv.slice(2));
