import type { Command } from 'commander';
import { registerApplyCommand } from './apply.js';
import { registerInitCommand } from './init.js';
import { registerRestartCommand } from './restart.js';

/** Changing what runs: apply, restart, init. */
export function registerChangeCommands(program: Command): void {
  registerApplyCommand(program);
  registerRestartCommand(program);
  registerInitCommand(program);
}
