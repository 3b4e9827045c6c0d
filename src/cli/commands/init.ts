import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { FerryError } from '../../errors/ferry-error.js';
import { appNameArg, healthPathArg, initTemplate, portArg } from '../init-template.js';

interface InitFlags {
  config?: string;
  name?: string;
  command?: string;
  port?: number;
  health?: string;
  force?: boolean;
}

/** ferry init: a commented ferry.yaml for the app in the current directory, asking nothing. */
export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('write a commented ferry.yaml for the app in this directory (asks nothing)')
    .option('-c, --config <file>', 'the file to write', 'ferry.yaml')
    .option('--name <name>', "the app's name (default: this directory's)", appNameArg)
    .option('--command <command>', 'the command that starts it, with its arguments (default: guessed)')
    .option('--port <port>', 'the port users reach it on, through the router (default: 8080)', portArg)
    .option(
      '--health <path>',
      'an HTTP path that answers 200 when it is ready (default: a TCP check)',
      healthPathArg,
    )
    .option('--force', 'overwrite the file if it exists')
    .action(async (opts: InitFlags) => {
      const file = path.resolve(opts.config ?? 'ferry.yaml');
      if (existsSync(file) && !opts.force)
        throw new FerryError(
          'FERRY_E_USAGE',
          `${file} exists already; ferry init never overwrites it without --force`,
          { where: file, expected: 'no file there, or --force', got: 'an existing file' },
        );
      const dir = path.dirname(file);
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
      // What init writes must pass `ferry config check`: checked here with the same loader first.
      const { parseConfig } = await import('../../config/load.js');
      parseConfig(text, { configPath: file, baseDir: dir });
      writeFileSync(file, text, { flag: opts.force ? 'w' : 'wx' });
      process.stdout.write(
        `wrote ${path.relative(process.cwd(), file) || file}; check it with: ferry config check -c ${opts.config ?? 'ferry.yaml'}; then: ferry up\n`,
      );
    });
}
