import type { Dispatcher } from 'undici';
import { z } from 'zod';
import { isErrorCode } from '../../errors/catalog.js';
import { FerryError, messageOf } from '../../errors/ferry-error.js';
import { UnknownCodeError } from '../../errors/unknown-code-error.js';
import { redactUrl } from '../../lib/redact.js';
import type { HostReport } from '../../protocol/report.js';
import { DESIRED_STATE_PATH, ENROLL_PATH, MAX_REPORT_BYTES, REPORT_PATH } from '../../protocol/transport.js';
import type { AgentTransport } from './transport.js';

export interface HttpTransportOptions {
  /** The server's URL (`https://ferry.example:7070`), without the agent API's paths. */
  readonly baseUrl: string;
  /** The agent's own credential, sent as `Authorization: Bearer`; never shown. */
  readonly credential: string;
  /**
   * The undici dispatcher the requests go through: its TLS settings (the server's pinned CA) and
   * its connection limits are the caller's. Its timeouts must outlast the server's poll bound.
   */
  readonly dispatcher: Dispatcher;
}

type Response = Dispatcher.ResponseData;

const enrollmentSchema = z.object({
  host: z.object({ id: z.string().min(1), labels: z.record(z.string(), z.string()) }),
  credential: z.string().min(1),
});

/** The agent protocol over HTTP(S), with undici. */
export class HttpAgentTransport implements AgentTransport {
  readonly target: string;
  private readonly base: string;

  constructor(private readonly options: HttpTransportOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
    this.target = redactUrl(this.base);
  }

  async pollDesired(after: number, signal: AbortSignal): Promise<{ doc: unknown } | null> {
    const response = await this.send('GET', `${DESIRED_STATE_PATH}?after=${after}`, undefined, signal);
    if (response.statusCode === 204) {
      await response.body.dump();
      return null;
    }
    if (response.statusCode !== 200) throw await this.failure(response);
    const text = await this.read(response);
    try {
      return { doc: JSON.parse(text) as unknown };
    } catch {
      throw new FerryError(
        'FERRY_E_PROTOCOL',
        `the server at ${this.target} answered a desired state that is not JSON`,
        { where: this.target, expected: 'JSON' },
      );
    }
  }

  async sendReport(report: HostReport, signal: AbortSignal): Promise<void> {
    const body = JSON.stringify(report);
    const bytes = Buffer.byteLength(body);
    // Refused here rather than sent: the server would refuse it too.
    if (bytes > MAX_REPORT_BYTES)
      throw new FerryError(
        'FERRY_E_BODY_TOO_LARGE',
        `report: expected at most ${MAX_REPORT_BYTES} bytes, got ${bytes}`,
        {
          expected: `at most ${MAX_REPORT_BYTES} bytes`,
          got: `${bytes} bytes`,
        },
      );
    const response = await this.send('POST', REPORT_PATH, body, signal);
    if (response.statusCode < 200 || response.statusCode > 299) throw await this.failure(response);
    await response.body.dump();
  }

  /**
   * Enrolls this host, presenting the join token this transport was made with as its credential;
   * resolves with the host's id and its own credential (to keep: it is shown this once).
   */
  async enroll(
    request: { readonly name: string; readonly labels: Readonly<Record<string, string>> },
    signal: AbortSignal,
  ): Promise<{
    readonly hostId: string;
    readonly labels: Record<string, string>;
    readonly credential: string;
  }> {
    const response = await this.send('POST', ENROLL_PATH, JSON.stringify(request), signal);
    if (response.statusCode !== 200) throw await this.failure(response);
    const answer = enrollmentSchema.safeParse(await this.readJson(response));
    if (!answer.success)
      throw new FerryError(
        'FERRY_E_PROTOCOL',
        `the server at ${this.target} answered an enrollment Ferry cannot read`,
        {
          where: this.target,
          expected: '{host: {id, labels}, credential}',
        },
      );
    return {
      hostId: answer.data.host.id,
      labels: answer.data.host.labels,
      credential: answer.data.credential,
    };
  }

  private async readJson(response: Response): Promise<unknown> {
    const text = await this.read(response);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      return undefined;
    }
  }

  private async send(
    method: 'GET' | 'POST',
    path: string,
    body: string | undefined,
    signal: AbortSignal,
  ): Promise<Response> {
    const { request } = await import('undici');
    try {
      return await request(`${this.base}${path}`, {
        method,
        dispatcher: this.options.dispatcher,
        signal,
        headers: {
          authorization: `Bearer ${this.options.credential}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body } : {}),
      });
    } catch (error) {
      if (signal.aborted)
        throw signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
      throw this.unreachable(error);
    }
  }

  private async read(response: Response): Promise<string> {
    try {
      return await response.body.text();
    } catch (error) {
      throw this.unreachable(error);
    }
  }

  private unreachable(error: unknown): FerryError {
    return new FerryError(
      'FERRY_E_SERVER_UNREACHABLE',
      `cannot reach the Ferry server at ${this.target}: ${messageOf(error)}`,
      { where: this.target },
      { cause: error },
    );
  }

  /** The server's error envelope as an error; a code this agent does not know is kept as given. */
  private async failure(response: Response): Promise<Error> {
    const status = response.statusCode;
    let envelope: unknown;
    try {
      envelope = JSON.parse(await response.body.text());
    } catch {
      envelope = undefined;
    }
    const error = (
      envelope as { error?: { code?: unknown; message?: unknown; details?: unknown } } | undefined
    )?.error;
    if (typeof error?.code !== 'string' || typeof error.message !== 'string')
      // Not the server's own answer (a proxy's 502, a load balancer's 503): as unreachable.
      return new FerryError(
        status >= 500 ? 'FERRY_E_SERVER_UNREACHABLE' : 'FERRY_E_PROTOCOL',
        `the server at ${this.target} answered HTTP ${status} without Ferry's error envelope`,
        { where: this.target, got: `HTTP ${status}` },
      );
    const details =
      typeof error.details === 'object' && error.details !== null
        ? (error.details as Record<string, unknown>)
        : {};
    if (!isErrorCode(error.code)) return new UnknownCodeError(error.code, error.message, details);
    return new FerryError(error.code, error.message, details);
  }
}
