import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import type { FerryConfig } from '../config/types.js';
import type { DeploymentState } from '../engine/types.js';
import { EventPublisher } from '../events/publisher.js';
import { FakeClock } from '../lib/clock.js';
import { toDeployment } from '../runtime/deployment-view.js';
import { aDeployment } from '../store/contract/fixtures.js';
import { Notifier } from './notifier.js';
import type { Post } from './sender.js';

const apps = `
apps:
  web:
    artifact: { url: "dist/web-{version}.tar.gz" }
    run: { command: node }
    listen: 8080
  api:
    artifact: { url: "dist/api-{version}.tar.gz" }
    run: { command: node }
    listen: 8081
`;

const config = (notifications: string): FerryConfig =>
  parseConfig(`${apps}notifications:\n${notifications}`, {
    configPath: '/srv/ferry.yaml',
    env: { FERRY_HOME: '/tmp/ferry-notify-test', HOOK_SECRET: 'h00k-s3cret' },
  });

function setup(notifications: string, post: Post) {
  const clock = new FakeClock(1_700_000_000_000);
  const events = new EventPublisher({ now: () => clock.now() });
  const live: { current: FerryConfig } = { current: config(notifications) };
  const lines: string[] = [];
  const logger = pino(
    { level: 'debug' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString('utf8'));
        done();
      },
    }),
  );
  const notifier = new Notifier({
    events,
    config: live,
    clock,
    logger,
    knownSecrets: ['the-api-t0ken'],
    post,
    random: () => 1,
  });
  const publish = (overrides: Partial<DeploymentState>) => {
    const deployment = toDeployment(aDeployment(overrides));
    events.publish({ kind: 'deployment', app: deployment.app, env: deployment.env, deployment });
  };
  return { clock, live, lines, notifier, publish };
}

describe('Notifier', () => {
  it('sends each destination the events and apps it asks for, in order', async () => {
    const sent: Array<[string, string]> = [];
    const post: Post = (url, request) => {
      sent.push([url, (JSON.parse(request.body) as { kind?: string; text?: string }).kind ?? 'slack']);
      return Promise.resolve({ status: 204, retryAfter: null });
    };
    const { clock, publish } = setup(
      `  - { kind: webhook, url: "http://127.0.0.1:1/all", secret_env: HOOK_SECRET }
  - { kind: webhook, url: "http://127.0.0.1:1/api", secret_env: HOOK_SECRET, apps: [api] }
  - { kind: slack, url: "http://127.0.0.1:1/ends", events: [succeeded, rolled-back] }
`,
      post,
    );
    publish({ id: 'd-1', app: 'web' });
    publish({ id: 'd-1', app: 'web', phase: 'retiring' });
    publish({ id: 'd-1', app: 'web', status: 'succeeded', phase: 'done' });
    publish({ id: 'd-2', app: 'api' });
    await clock.advance(0);
    // Destinations are independent of each other: the order holds within each one.
    const to = (url: string) => sent.filter(([u]) => u.endsWith(url)).map(([, kind]) => kind);
    expect(to('/all')).toEqual(['started', 'succeeded', 'started']);
    expect(to('/api')).toEqual(['started']);
    expect(to('/ends')).toEqual(['slack']);
  });

  it('never waits for a destination: a dead one delays only its own notifications', async () => {
    const sent: string[] = [];
    const post: Post = (url, _request, signal) => {
      if (url.includes('dead'))
        return new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(new Error('ECONNRESET'))),
        );
      sent.push(url);
      return Promise.resolve({ status: 200, retryAfter: null });
    };
    const { clock, lines, notifier, publish } = setup(
      `  - { kind: slack, url: "http://127.0.0.1:1/services/T0/B0/dead-s3cret", attempts: 2, timeout: 5s, queue: 1 }
  - { kind: webhook, url: "http://127.0.0.1:1/ok", secret_env: HOOK_SECRET }
`,
      post,
    );
    for (const id of ['d-1', 'd-2', 'd-3']) publish({ id });
    await clock.advance(0);
    expect(sent).toHaveLength(3);
    const [dead] = notifier.destinations;
    expect([dead?.pending, dead?.dropped]).toEqual([2, 1]);
    // Each of the two left: 5 s, 1 s of backoff, 5 s; then given up.
    await clock.advance(22_000);
    expect(dead?.pending).toBe(0);
    expect(dead?.failed).toBe(2);
    const log = lines.join('');
    expect(log).toContain('notification not delivered: giving it up');
    expect(log).toContain('slack http://127.0.0.1:1/***');
    expect(log).not.toContain('dead-s3cret');
    notifier.stop();
  });

  it('keeps the queues of unchanged destinations when the configuration changes, and stops the others', async () => {
    const sent: string[] = [];
    const post: Post = (url) => {
      sent.push(url);
      return Promise.resolve({ status: 200, retryAfter: null });
    };
    const a = `  - { kind: slack, url: "http://127.0.0.1:1/a" }\n`;
    const b = `  - { kind: slack, url: "http://127.0.0.1:1/b" }\n`;
    const { clock, live, notifier, publish } = setup(a + b, post);
    publish({ id: 'd-1' });
    const [first] = notifier.destinations;
    live.current = config(a);
    publish({ id: 'd-2' });
    await clock.advance(0);
    expect(notifier.destinations).toEqual([first]);
    expect(sent.filter((url) => url.endsWith('/a'))).toHaveLength(2);
    expect(sent.filter((url) => url.endsWith('/b'))).toHaveLength(1);
  });
});
