import { messageOf } from '../errors/ferry-error.js';
import type { Logger } from '../lib/logger.js';
import { redactUrl } from '../lib/redact.js';

/** What Docker Hub's callback_url is told: the deploy started, or why it did not. */
export interface RegistryCallback {
  readonly state: 'success' | 'failure' | 'error';
  readonly description: string;
  readonly context: 'ferry';
  readonly target_url?: string;
}

/** POSTs the answer to a registry's callback_url; a failure is logged, never thrown. */
export async function answerRegistryCallback(
  url: string,
  body: RegistryCallback,
  logger: Logger,
  timeoutMs = 10_000,
): Promise<void> {
  try {
    // undici loads with the first callback: a daemon without them never holds it.
    const { request } = await import('undici');
    const response = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await response.body.dump();
    if (response.statusCode >= 300)
      logger.warn({ url: redactUrl(url), status: response.statusCode }, 'registry callback refused');
  } catch (error) {
    logger.warn({ url: redactUrl(url), err: messageOf(error) }, 'registry callback failed');
  }
}
