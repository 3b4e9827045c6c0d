import { randomUUID } from 'node:crypto';
import type { NotifyKind } from './events.js';
import type { Notification } from './notification.js';
import { signPayload } from './signature.js';

/**
 * One HTTP request of a delivery: made once per notification and sent again on each retry, with
 * the same body and delivery id; a webhook's timestamp and signature are made at each attempt
 * (headersAt), so a receiver that refuses old timestamps still takes a late retry.
 */
export interface DeliveryRequest {
  readonly body: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The webhook's secret; null: not signed (Slack). */
  readonly secret: string | null;
}

/** The request's headers for an attempt at `nowMs`: signed then when it has a secret. */
export function headersAt(request: DeliveryRequest, nowMs: number): Record<string, string> {
  if (request.secret === null) return { ...request.headers };
  const timestamp = String(Math.floor(nowMs / 1000));
  return {
    ...request.headers,
    'x-ferry-timestamp': timestamp,
    'x-ferry-signature-256': signPayload(request.secret, timestamp, request.body),
  };
}

/**
 * The request a destination gets for a notification: Slack's incoming-webhook JSON (`text` and
 * `blocks`), or a generic webhook's JSON signed with its secret. The delivery id stays the same
 * across retries so a receiver can drop duplicates.
 */
export function deliveryRequest(kind: NotifyKind, n: Notification, secret: string | null): DeliveryRequest {
  if (kind === 'slack') {
    const icon =
      n.event === 'succeeded'
        ? ':white_check_mark:'
        : n.event === 'started' || n.event === 'step'
          ? ':rocket:'
          : ':x:';
    const text = `${icon} ${n.message}`;
    const body = {
      text,
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: subjectOf(n) }] },
      ],
    };
    return { body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, secret: null };
  }
  const body = JSON.stringify({
    id: n.id,
    at: n.at,
    kind: n.event,
    app: n.app,
    env: n.env,
    deployment: n.deployment,
    rollout: n.rollout,
    reason: n.reason,
    message: n.message,
  });
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'x-ferry-event': n.event,
      'x-ferry-delivery': randomUUID(),
    },
    secret,
  };
}

/** What a notification is about, in a few words: "deployment d-1a2b3c4d5e", "rollout of web in production". */
export function subjectOf(n: Notification): string {
  return n.deployment !== null ? `deployment ${n.deployment.id}` : `rollout of ${n.app} in ${n.env}`;
}
