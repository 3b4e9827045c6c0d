import type { HostDesiredState } from '../../protocol/desired-state.js';
import type { HostReport } from '../../protocol/report.js';
import type { AgentTransport } from './transport.js';

/** What an agent's request "came from" in the server's records when there is no network. */
export const IN_PROCESS_ADDRESS = 'in-process';

/**
 * The agents' side of the server's HostExchange, as the in-process transport calls it (a narrow
 * view, so the agent does not depend on the server's code).
 */
export interface AgentEndpoint {
  nextDesired(
    host: string,
    after: number,
    from: { readonly address: string },
    signal?: AbortSignal,
  ): Promise<HostDesiredState | null>;
  receiveReport(
    host: string,
    body: unknown,
    from: { readonly address: string; readonly bytes: number },
  ): unknown;
}

/**
 * The agent protocol inside one process (`ferry up`): the HostExchange called directly, for the
 * host the agent is. Messages still go as JSON text, so neither side shares an object with the
 * other and the same bounds apply as over HTTP.
 */
export class InProcessAgentTransport implements AgentTransport {
  readonly target = IN_PROCESS_ADDRESS;

  constructor(
    private readonly endpoint: AgentEndpoint,
    private readonly hostId: string,
  ) {}

  async pollDesired(after: number, signal: AbortSignal): Promise<{ doc: unknown } | null> {
    const doc = await this.endpoint.nextDesired(this.hostId, after, { address: IN_PROCESS_ADDRESS }, signal);
    return doc === null ? null : { doc: JSON.parse(JSON.stringify(doc)) as unknown };
  }

  sendReport(report: HostReport, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return Promise.reject(asError(signal.reason));
    try {
      const text = JSON.stringify(report);
      this.endpoint.receiveReport(this.hostId, JSON.parse(text), {
        address: IN_PROCESS_ADDRESS,
        bytes: Buffer.byteLength(text),
      });
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(asError(error));
    }
  }
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}
