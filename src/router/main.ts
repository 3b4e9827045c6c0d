import { mkdirSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import { parseArgs } from 'node:util';
import { messageOf } from '../errors/ferry-error.js';
import { createLogger, type Logger } from '../lib/logger.js';
import { createControlServer } from './control-server.js';
import { Router } from './router.js';
import { claimStateDir, readPidFile, routerFiles } from './state-dir.js';

/**
 * The router process: `node main.js --state-dir DIR`. Spawned detached by RouterClient, it outlives
 * the daemon, serves the table it saved at its last change, and takes changes on DIR/router.sock.
 */
async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { 'state-dir': { type: 'string' }, 'drain-ms': { type: 'string' } },
  });
  const stateDir = values['state-dir'];
  const drainMs = values['drain-ms'] === undefined ? undefined : Number(values['drain-ms']);
  if (stateDir === undefined || (drainMs !== undefined && !(Number.isInteger(drainMs) && drainMs >= 0))) {
    process.stderr.write('usage: router --state-dir DIR [--drain-ms MS]\n');
    return 2;
  }
  const files = routerFiles(stateDir);
  const logger = createLogger();
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });

  const owner = claimStateDir(files.pid);
  if (owner !== undefined) {
    logger.error({ stateDir, pid: owner }, 'another router already owns this state directory');
    return 1;
  }
  // This process owns the directory now: a socket file is left over from a router that was killed.
  rmSync(files.socket, { force: true });

  const router = new Router({ stateDir, logger, drainMs });
  await router.restore();
  const control = createControlServer(router, logger);
  await listenOnSocket(control, files.socket);
  logger.info({ stateDir }, 'router started');

  keepRunningThroughBugs(logger);
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      logger.info({ signal }, 'router stopping: finishing requests in flight');
      resolve();
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });

  control.close();
  await router.shutdown();
  rmSync(files.socket, { force: true });
  if (readPidFile(files.pid) === process.pid) rmSync(files.pid, { force: true });
  logger.info({}, 'router stopped');
  return 0;
}

function listenOnSocket(server: Server, socketPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Every socket error is handled where it happens; this is the last net. A router that exits on an
 * unforeseen error drops every app's traffic, so it logs the bug and keeps serving.
 */
function keepRunningThroughBugs(logger: Logger): void {
  process.on('uncaughtException', (error) =>
    logger.error({ err: messageOf(error), stack: error.stack }, 'uncaught exception'),
  );
  process.on('unhandledRejection', (reason) =>
    logger.error({ err: messageOf(reason) }, 'unhandled rejection'),
  );
}

main().then(
  (code) => {
    process.exitCode = code;
    // Upstream keep-alive timers may linger for a moment; do not wait on them.
    setTimeout(() => process.exit(code), 500).unref();
  },
  (error: unknown) => {
    process.stderr.write(`ferry router: ${messageOf(error)}\n`);
    process.exit(1);
  },
);
