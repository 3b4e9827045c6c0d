import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMAND_GROUPS, registerCommands } from './command-groups.js';

const registered = (program: Command) => program.commands.map((c) => c.name());

describe('command groups', () => {
  it('list exactly the commands their module registers', async () => {
    for (const group of COMMAND_GROUPS) {
      const program = new Command('ferry');
      (await group.load()).register(program);
      expect(registered(program)).toEqual(group.names);
    }
  });

  it("register only the invoked command's group, past the program's options and their values", async () => {
    const cases: Array<[string[], string[]]> = [
      [
        ['status', '--json'],
        ['status', 'history', 'show', 'logs'],
      ],
      [
        ['--home', 'deploy', 'status'],
        ['status', 'history', 'show', 'logs'],
      ],
      [
        ['--url', 'http://x', 'deploy', 'hello', '1.0.0'],
        ['deploy', 'rollback', 'restart', 'canary', 'pause', 'resume', 'promote', 'abort'],
      ],
      [
        ['join-token', 'create', '--ttl', '1h'],
        ['hosts', 'join-token'],
      ],
      [['--version'], []],
    ];
    for (const [argv, expected] of cases) {
      const program = new Command('ferry');
      await registerCommands(program, argv);
      expect(registered(program), argv.join(' ')).toEqual(expected);
    }
    const all = COMMAND_GROUPS.flatMap((g) => g.names);
    for (const argv of [[], ['--help'], ['nonsense'], ['help', 'status'], ['--version', '--help']]) {
      const program = new Command('ferry');
      await registerCommands(program, argv);
      expect(registered(program), argv.join(' ')).toEqual(all);
    }
  });
});
