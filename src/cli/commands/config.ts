import type { Command } from 'commander';
import { loadConfig } from '../../config/load.js';

/** ferry config check: validates a ferry.yaml and reports every problem with its path. */
export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('configuration file tools');
  config
    .command('check')
    .description('validate ferry.yaml; exit 2 with every problem and its path when it is invalid')
    .option('-c, --config <file>', 'the configuration file', 'ferry.yaml')
    .option('--json', 'print the compiled configuration as JSON')
    .action((opts: { config: string; json?: boolean }) => {
      const compiled = loadConfig(opts.config);
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(compiled, null, 2)}\n`);
        return;
      }
      const apps = Object.keys(compiled.apps);
      process.stdout.write(
        `${opts.config} is valid: ${apps.length} app(s) (${apps.join(', ') || 'none'}), environments: ${compiled.environments.join(', ')}\n`,
      );
    });
}
