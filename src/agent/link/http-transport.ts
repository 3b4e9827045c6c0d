import { request as httpRequest, type Agent, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
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
   * The connections the requests go over (node:http's Agent; an https.Agent for an https:// URL):
   * their TLS settings (the server's pinned CA) are the caller's. No timeout of theirs may cut a
   * long poll: the link bounds each request itself.
   */
  readonly connections: Agent;
}

/** A whole answer: the agent API's bodies are small (a desired state, an error envelope). */
interface Response {
  readonly statusCode: number;
  readonly text: string;
}

const enrollmentSchema = z.object({
  host: z.object({ id: z.string().min(1), labels: z.record(z.string(), z.string()) }),
  credential: z.string().min(1),
});

/** The agent protocol over HTTP(S), with Node's HTTP client. */
export class HttpAgentTransport implements AgentTransport {
  readonly target: string;
  private readonly base: URL;

  constructor(private readonly options: HttpTransportOptions) {
    this.target = redactUrl(options.baseUrl.replace(/\/+$/, ''));
    // Credentials in the URL are not sent: the agent's own is.
    this.base = new URL(options.baseUrl);
    this.base.username = '';
    this.base.password = '';
  }

  async pollDesired(after: number, signal: AbortSignal): Promise<{ doc: unknown } | null> {
    const response = await this.send('GET', `${DESIRED_STATE_PATH}?after=${after}`, undefined, signal);
    if (response.statusCode === 204) return null;
    if (response.statusCode !== 200) throw this.failure(response);
    try {
      return { doc: JSON.parse(response.text) as unknown };
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
    if (response.statusCode < 200 || response.statusCode > 299) throw this.failure(response);
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
    if (response.statusCode !== 200) throw this.failure(response);
    const answer = enrollmentSchema.safeParse(parseJson(response.text));
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

  /**
   * One request, its answer read whole. FERRY_E_SERVER_UNREACHABLE when the server cannot be reached
   * or the connection fails before the answer is in; the signal's reason when it aborts.
   */
  private send(
    method: 'GET' | 'POST',
    path: string,
    body: string | undefined,
    signal: AbortSignal,
  ): Promise<Response> {
    const url = new URL(path, this.base);
    const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<Response>((resolve, reject) => {
      const fail = (error: unknown): void =>
        reject(
          signal.aborted
            ? signal.reason instanceof Error
              ? signal.reason
              : new Error(String(signal.reason))
            : this.unreachable(error),
        );
      const req = request(
        url,
        {
          method,
          agent: this.options.connections,
          signal,
          headers: {
            authorization: `Bearer ${this.options.credential}`,
            ...(body !== undefined
              ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
              : {}),
          },
        },
        (res: IncomingMessage) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.once('end', () =>
            resolve({ statusCode: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
          );
          res.once('error', fail);
          res.once('close', () => {
            if (!res.complete) fail(new Error('the connection closed before the answer was in'));
          });
        },
      );
      req.once('error', fail);
      req.end(body);
    });
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
  private failure(response: Response): Error {
    const status = response.statusCode;
    const envelope = parseJson(response.text);
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

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
