import type { Command } from 'commander';

/** A module of src/cli/commands/ and the commands it registers. */
interface CommandGroup {
  readonly names: readonly string[];
  readonly load: () => Promise<{ register(program: Command): void }>;
}

/**
 * Every command, by the module that registers it (its names, arguments and options; the handler
 * is loaded only when the command runs, see lazy-action.ts). A new command goes in a group here:
 * one not listed still works (an unknown word loads every group), at the cost of loading them all.
 */
export const COMMAND_GROUPS: readonly CommandGroup[] = [
  { names: ['up', 'server', 'down'], load: () => import('./commands/up.js') },
  { names: ['agent'], load: () => import('./commands/agent.js') },
  { names: ['config'], load: () => import('./commands/config.js') },
  {
    names: ['deploy', 'rollback', 'restart', 'canary', 'pause', 'resume', 'promote', 'abort'],
    load: () => import('./commands/deployments.js'),
  },
  { names: ['status', 'history', 'show', 'logs'], load: () => import('./commands/read.js') },
  { names: ['release', 'releases'], load: () => import('./commands/releases.js') },
  { names: ['hosts', 'join-token'], load: () => import('./commands/hosts.js') },
  { names: ['lock', 'unlock', 'locks'], load: () => import('./commands/locks.js') },
  { names: ['install'], load: () => import('./commands/install.js') },
  { names: ['apply'], load: () => import('./commands/apply.js') },
  { names: ['init'], load: () => import('./commands/init.js') },
];

/** The program's options that take a value: the word after them is not the command. */
const GLOBAL_OPTIONS_WITH_VALUE = new Set(['--home', '--url', '--token']);

/**
 * Registers the commands argv can run: only the invoked command's group, so `ferry status` loads
 * none of the others' modules; none for `ferry --version`; every group for help or an unknown word.
 */
export async function registerCommands(program: Command, argv: readonly string[]): Promise<void> {
  const word = commandWord(argv);
  const asksVersion = argv.includes('--version') || argv.includes('-V');
  if (word === undefined && asksVersion && !argv.includes('--help') && !argv.includes('-h')) return;
  const group = COMMAND_GROUPS.find((g) => word !== undefined && g.names.includes(word));
  for (const { load } of group ? [group] : COMMAND_GROUPS) (await load()).register(program);
}

function commandWord(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (GLOBAL_OPTIONS_WITH_VALUE.has(arg)) i++;
    else if (!arg.startsWith('-')) return arg;
  }
  return undefined;
}
