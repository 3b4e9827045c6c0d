import net from 'node:net';
import { settleOnce, timedOut, type ProbeOutcome } from './probe.js';
import type { ProbeTarget } from './types.js';

/** Passes when a TCP connection to the instance's port is accepted. */
export function probeTcp(
  target: ProbeTarget,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<ProbeOutcome> {
  const where = `${target.host}:${target.port}`;
  return new Promise((resolve) => {
    const socket = net.connect({ host: target.host, port: target.port });
    const settle = settleOnce(
      resolve,
      timeoutMs,
      signal,
      () => ({ ok: false, detail: `connect ${where}: ${timedOut(timeoutMs)}` }),
      () => socket.destroy(),
    );
    socket.once('connect', () => settle({ ok: true, detail: `connect ${where} ok` }));
    socket.once('error', (error) => settle({ ok: false, detail: error.message }));
  });
}
