import { homedir } from 'node:os';
import type { Command } from 'commander';
import path from 'node:path';
import { parseLabelWords } from '../../lib/labels.js';

interface AgentFlags {
  readonly server: string;
  readonly token?: string;
  readonly caFingerprint?: string;
  readonly caFile?: string;
  readonly name?: string;
  readonly label?: readonly string[];
  readonly dataDir?: string;
}

/** ferry agent: runs the agent in this process until a signal stops it. */
export async function agent(flags: AgentFlags, command: Command): Promise<never> {
  // `--token` after `agent` is also the program's own --token (the API token, which this command
  // does not use): taken as the join token when given on the command line, never from FERRY_TOKEN.
  const program = command.parent;
  const joinToken =
    flags.token ??
    (program?.getOptionValueSource('token') === 'cli'
      ? (program.opts<{ token?: string }>().token ?? undefined)
      : undefined);
  const labels = parseLabelWords(flags.label ?? [], '--label');
  const dataDir = path.resolve(
    flags.dataDir ?? process.env.FERRY_AGENT_HOME ?? path.join(homedir(), '.ferry-agent'),
  );
  // The agent's code, loaded by this command only.
  const { runAgent } = await import('../../agent/process/run-agent.js');
  await runAgent({
    server: flags.server,
    dataDir,
    labels,
    ...(joinToken !== undefined ? { joinToken } : {}),
    ...(flags.caFingerprint !== undefined ? { caFingerprint: flags.caFingerprint } : {}),
    ...(flags.caFile !== undefined ? { caFile: path.resolve(flags.caFile) } : {}),
    ...(flags.name !== undefined ? { name: flags.name } : {}),
  });
  return new Promise<never>(() => {});
}
