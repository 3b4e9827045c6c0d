import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE } from '../../config/config-file.js';
import { FerryError } from '../../errors/ferry-error.js';
import type { GlobalOptions } from '../daemon-target.js';
import { initTemplate } from '../init-template.js';

interface InitFlags {
  name?: string;
  command?: string;
  port?: number;
  health?: string;
  force?: boolean;
}

/** ferry init: writes a commented ferry.yaml (or -c FILE) that passes `ferry config check`. */
export async function init(opts: InitFlags, command: Command): Promise<void> {
  const shown = command.optsWithGlobals<GlobalOptions>().config ?? DEFAULT_CONFIG_FILE;
  const file = path.resolve(shown);
  if (existsSync(file) && !opts.force)
    throw new FerryError(
      'FERRY_E_USAGE',
      `${file} exists already; ferry init never overwrites it without --force`,
      {
        where: file,
        expected: 'no file there, or --force',
        got: 'an existing file',
      },
    );
  const text = initTemplate(opts, {
    baseName: path.basename(process.cwd()),
    read: (name) => {
      try {
        return readFileSync(path.join(process.cwd(), name), 'utf8');
      } catch {
        return undefined;
      }
    },
  });
  // What init writes must pass `ferry config check`: checked first with the same loader, loaded
  // by this command only (see CLI_LAZY in eslint.config.js).
  const { parseConfig } = await import('../../config/load.js');
  parseConfig(text, { configPath: file, baseDir: path.dirname(file) });
  writeFileSync(file, text, { flag: opts.force ? 'w' : 'wx' });
  const flag = shown === DEFAULT_CONFIG_FILE ? '' : ` -c ${shown}`;
  process.stdout.write(
    `wrote ${path.relative(process.cwd(), file) || file}; check it with: ferry config check${flag}; then: ferry up${flag}\n`,
  );
}
