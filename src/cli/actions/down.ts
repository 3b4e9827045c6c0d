import type { Command } from 'commander';
import { findConfigFile } from '../../config/config-file.js';
import { ConfigReader, resolveHome, type GlobalOptions } from '../daemon-target.js';

/** ferry down: stops what runs from the data directory, and says exactly what it stopped. */
export async function down(_opts: unknown, command: Command): Promise<void> {
  const { config } = command.optsWithGlobals<GlobalOptions>();
  const { home } = await resolveHome(command, new ConfigReader(findConfigFile(config)));
  // Stopping needs the local processes' code, loaded by this command only.
  const daemon = await import('../../daemon/down.js');
  const { stopped, notes } = await daemon.down(home);
  for (const note of notes) process.stderr.write(`ferry: ${note}\n`);
  process.stdout.write(
    stopped.length > 0 ? `stopped: ${stopped.join(', ')}\n` : `nothing was running from ${home}\n`,
  );
}
