// Runs the ferry CLI from source (through tsx), so tests of `ferry install` need no build.
import { main } from '../../cli/main.js';

process.exitCode = await main(process.argv.slice(2));
