import { homedir } from 'node:os';
import { setFlagsFromString } from 'node:v8';
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
  // The agent idles on every host of a fleet and its hot paths are native (hashing, zlib, sockets;
  // the router is a process of its own): V8's lite mode (no optimizing compiler, feedback allocated
  // lazily) takes its idle RSS from about 65 MB to about 59 (bench/agent-idle.mjs). Set before its
  // code loads, here rather than in bin/ferry.js, where every command would pay for it.
  // The agent idles on every host of a fleet; what it does often is light (reports, health checks,
  // the link) and its installs run in processes of their own (src/agent/installer). V8's lite mode
  // (no optimizing compiler, feedback allocated lazily) takes its idle RSS with an app from about
  // 64 MB to 57 (bench/agent-idle.mjs). Set before its code loads, and here rather than in
  // bin/ferry.js, where every command would pay for it.
  setFlagsFromString('--lite-mode');
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
