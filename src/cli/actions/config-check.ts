import type { Command } from 'commander';
import { DEFAULT_CONFIG_FILE, findConfigFile } from '../../config/config-file.js';
import { isFerryError } from '../../errors/ferry-error.js';
import type { GlobalOptions } from '../daemon-target.js';
import { printJson } from '../json-output.js';

/**
 * ferry config check: the whole configuration through the one loader, as `ferry up` reads it.
 * With --json an invalid file is a JSON document too: {valid: false, file, code, message,
 * problems: [{path, message}]}, exit 2.
 */
export async function configCheck(opts: { json?: boolean }, command: Command): Promise<void> {
  const { config } = command.optsWithGlobals<GlobalOptions>();
  const file = findConfigFile(config ?? DEFAULT_CONFIG_FILE);
  // The schema and the compiler, loaded by this command only (see eslint.config.js).
  const { loadConfig } = await import('../../config/load.js');
  let compiled;
  try {
    compiled = loadConfig(file.path);
  } catch (error) {
    if (!opts.json || !isFerryError(error)) throw error;
    const problems = Array.isArray(error.details.problems)
      ? error.details.problems
      : [{ path: '(file)', message: error.message }];
    printJson({ valid: false, file: file.path, code: error.code, message: error.message, problems });
    process.exitCode = error.exitCode;
    return;
  }
  // The compiled configuration holds no points in time: printed as it is.
  if (opts.json) return void process.stdout.write(`${JSON.stringify(compiled, null, 2)}\n`);
  const apps = Object.keys(compiled.apps);
  process.stdout.write(
    `${file.shown} is valid: ${apps.length} app(s) (${apps.join(', ') || 'none'}), environments: ${compiled.environments.join(', ')}\n`,
  );
}
