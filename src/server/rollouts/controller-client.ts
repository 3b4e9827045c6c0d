import { z } from 'zod';
import { FerryError, messageOf } from '../../errors/ferry-error.js';
import type { Clock } from '../../lib/clock.js';
import { formatDuration } from '../../lib/duration.js';
import { redactText, redactUrl, urlSecrets } from '../../lib/redact.js';
import { messageProblems } from '../../protocol/problems.js';
import type { ControllerAnswer, ControllerKind, ControllerQuestion } from '../../rollout/index.js';

/** The largest answer a controller may give: a selection of many targets fits easily. */
export const MAX_ANSWER_BYTES = 64 * 1024;

/** How much of an error answer's body the failure quotes. */
const QUOTED = 200;

export interface AskOptions {
  /** The run's clock: the question's deadline is a time on it. */
  readonly clock: Clock;
  /** Ends the call at once (the run closing). */
  readonly signal?: AbortSignal;
}

/** Asks a controller its question and resolves with its answer; rejects with why there is none. */
export type ControllerAsker = (
  url: string,
  question: ControllerQuestion,
  options: AskOptions,
) => Promise<ControllerAnswer>;

const targetsAnswer = z.object({ targets: z.array(z.string()).max(100_000) });
const approvalAnswer = z.object({
  approved: z.boolean(),
  by: z.string().max(200).optional(),
  reason: z.string().max(1000).optional(),
});
const verdictAnswer = z.object({
  verdict: z.enum(['pass', 'fail']),
  reason: z.string().max(1000).optional(),
});

/**
 * A controller over HTTP: POSTs the question as JSON and reads a JSON answer of the controller's
 * kind. Bounded by the question's deadline (an abort on `clock`): an unreachable controller, an
 * HTTP error, an unreadable answer or no answer by then rejects with FERRY_E_CONTROLLER_FAILED, so
 * a controller never holds a rollout up. The URL may carry credentials: messages show it redacted,
 * and quoted text has its secrets hidden.
 */
export const askController: ControllerAsker = async (url, question, { clock, signal }) => {
  const who = `the ${question.controller} controller at ${redactUrl(url)}`;
  const secrets = urlSecrets(url);
  const failed = (why: string, got: string) =>
    new FerryError('FERRY_E_CONTROLLER_FAILED', redactText(`${who} ${why}`, secrets), {
      where: redactUrl(url),
      got: redactText(got, secrets),
    });
  const askedAt = clock.now();
  const abort = new AbortController();
  let late = false;
  const timer = clock.setTimeout(
    () => {
      late = true;
      abort.abort(new Error('deadline'));
    },
    Math.max(0, question.deadline - askedAt),
  );
  const onClose = () => abort.abort(new Error('closed'));
  signal?.addEventListener('abort', onClose, { once: true });
  const broken = (error: unknown, what: string) => {
    if (late)
      return failed(
        `did not answer by its deadline (${formatDuration(Math.max(0, question.deadline - askedAt))} after it was asked)`,
        'no answer',
      );
    if (signal?.aborted) return failed('was not waited for: the rollout run closed', 'closed');
    return failed(`${what}: ${messageOf(error)}`, messageOf(error));
  };
  try {
    let response;
    try {
      // undici loads with the first ask: a daemon without controllers never holds it.
      const { request } = await import('undici');
      response = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json' },
        body: JSON.stringify(question),
        signal: abort.signal,
        // The deadline bounds the call, however long it is (an approval may wait an hour).
        headersTimeout: 0,
        bodyTimeout: 0,
      });
    } catch (error) {
      throw broken(error, 'could not be reached');
    }
    let text: string | null;
    try {
      text = await readAtMost(response.body, MAX_ANSWER_BYTES);
    } catch (error) {
      throw broken(error, 'broke off its answer');
    }
    if (text === null)
      throw failed(`answered more than ${MAX_ANSWER_BYTES} bytes`, `more than ${MAX_ANSWER_BYTES} bytes`);
    const status = response.statusCode;
    if (status < 200 || status > 299) {
      const quoted = text.trim().slice(0, QUOTED);
      throw failed(`answered HTTP ${status}${quoted ? `: ${quoted}` : ''}`, `HTTP ${status}`);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw failed('answered something that is not JSON', 'not JSON');
    }
    return answerOf(question.controller, body, failed);
  } finally {
    clock.clearTimeout(timer);
    signal?.removeEventListener('abort', onClose);
  }
};

function answerOf(
  kind: ControllerKind,
  body: unknown,
  failed: (why: string, got: string) => FerryError,
): ControllerAnswer {
  const wrong = (error: z.ZodError, expected: string) => {
    const problems = messageProblems(error, 'answer');
    return failed(`answered ${problems.join('; ')} (expected ${expected})`, problems.join('; '));
  };
  switch (kind) {
    case 'selection':
    case 'removal': {
      const checked = targetsAnswer.safeParse(body);
      if (!checked.success) throw wrong(checked.error, '{"targets": ["name", ...]}');
      return { controller: kind, targets: checked.data.targets };
    }
    case 'approval': {
      const checked = approvalAnswer.safeParse(body);
      if (!checked.success) throw wrong(checked.error, '{"approved": true|false, "by"?, "reason"?}');
      const { approved, by, reason } = checked.data;
      return {
        controller: 'approval',
        approved,
        ...(by !== undefined ? { by } : {}),
        ...(reason !== undefined ? { reason } : {}),
      };
    }
    case 'target-monitor':
    case 'fleet-monitor': {
      const checked = verdictAnswer.safeParse(body);
      if (!checked.success) throw wrong(checked.error, '{"verdict": "pass"|"fail", "reason"?}');
      const { verdict, reason } = checked.data;
      return { controller: kind, verdict, ...(reason !== undefined ? { reason } : {}) };
    }
  }
}

/** The body as text, or null (and the rest discarded) once it grows past `limit` bytes. */
async function readAtMost(body: AsyncIterable<Buffer> & { destroy(): unknown }, limit: number) {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      return null;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
