import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { deliveryRequest, headersAt } from './payload.js';
import { signPayload, verifyPayload } from './signature.js';
import type { Notification } from './notification.js';

const notification: Notification = {
  id: 'r-7',
  at: 1_700_000_000_000,
  event: 'succeeded',
  app: 'web',
  env: 'production',
  deployment: {
    id: 'd-1',
    kind: 'deploy',
    from: '1.0.0',
    to: '1.1.0',
    status: 'succeeded',
    strategy: 'blue-green',
    step: null,
  },
  rollout: null,
  reason: null,
  message: 'web 1.0.0 -> 1.1.0 in production: succeeded',
};

describe('webhook signatures', () => {
  it('are the hex HMAC-SHA256 of "<timestamp>.<body>" as docs/triggers.md shows receivers', () => {
    const expected = createHmac('sha256', 'k3y-s3cret').update('1700000000.{"a":1}').digest('hex');
    expect(signPayload('k3y-s3cret', '1700000000', '{"a":1}')).toBe(`sha256=${expected}`);
    expect(verifyPayload('k3y-s3cret', '1700000000', '{"a":1}', `sha256=${expected}`)).toBe(true);
    expect(verifyPayload('k3y-s3cret', '1700000001', '{"a":1}', `sha256=${expected}`)).toBe(false);
    expect(verifyPayload('other', '1700000000', '{"a":1}', `sha256=${expected}`)).toBe(false);
  });

  it('sign each attempt at its time over the same body and delivery id', () => {
    const request = deliveryRequest('webhook', notification, 'k3y-s3cret');
    expect(JSON.parse(request.body)).toEqual({
      id: 'r-7',
      at: notification.at,
      kind: 'succeeded',
      app: 'web',
      env: 'production',
      deployment: notification.deployment,
      rollout: null,
      reason: null,
      message: notification.message,
    });
    const first = headersAt(request, 1_700_000_000_500);
    const later = headersAt(request, 1_700_000_060_000);
    expect(first['x-ferry-event']).toBe('succeeded');
    expect(first['x-ferry-timestamp']).toBe('1700000000');
    expect(later['x-ferry-timestamp']).toBe('1700000060');
    expect(later['x-ferry-delivery']).toBe(first['x-ferry-delivery']);
    for (const headers of [first, later])
      expect(
        verifyPayload(
          'k3y-s3cret',
          headers['x-ferry-timestamp']!,
          request.body,
          headers['x-ferry-signature-256']!,
        ),
      ).toBe(true);
    expect(JSON.stringify(first)).not.toContain('k3y-s3cret');
  });

  it('leave Slack messages unsigned, in the incoming-webhook format', () => {
    const request = deliveryRequest('slack', notification, null);
    const body = JSON.parse(request.body) as { text: string; blocks: unknown[] };
    expect(body.text).toContain('web 1.0.0 -> 1.1.0 in production: succeeded');
    expect(body.blocks.length).toBeGreaterThan(0);
    expect(headersAt(request, 0)).toEqual({ 'content-type': 'application/json' });
  });
});
