#!/usr/bin/env node
// The ferry command: runs the built CLI (npm run build produces dist/).
import { main } from '../dist/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
