import { createLogger } from '../../lib/logger.js';
import { AgentProcess, type AgentSettings } from './agent-process.js';

/**
 * `ferry agent` in the foreground: starts the agent, says where it reports, and stops it on
 * SIGINT/SIGTERM (its router and instances keep serving; the next start re-adopts them).
 */
export async function runAgent(
  settings: Omit<AgentSettings, 'openLog'>,
  out: NodeJS.WritableStream = process.stdout,
): Promise<AgentProcess> {
  const terminal = process.stdout.isTTY ? process.stdout : undefined;
  const agent = new AgentProcess({
    ...settings,
    openLog: (file) => createLogger({ destination: file, ...(terminal ? { terminal } : {}) }),
  });
  // The agent lives until a signal stops it. Its own timers do not hold the process (they are
  // unref'd), and without the server no connection does: this does, or the agent would exit the
  // moment it lost its server, the one time it must stay.
  const alive = setInterval(() => undefined, 1 << 30);
  const stop = async (signal: string): Promise<void> => {
    out.write(`\n${signal}: stopping the agent; the router and apps keep serving\n`);
    await agent.stop();
    clearInterval(alive);
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  out.write(`ferry agent: starting (data in ${settings.dataDir})\n`);
  try {
    await agent.start();
  } catch (error) {
    clearInterval(alive);
    throw error;
  }
  const identity = agent.identity!;
  out.write(`ferry agent: host ${identity.name} (${identity.hostId}) follows ${settings.server}\n`);
  return agent;
}
