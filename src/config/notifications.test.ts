import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useConfigDir } from './test-support/config-dir.js';

const base = `
apps:
  hello:
    artifact: { url: "dist/hello-{version}.tar.gz" }
    run: { command: node, args: [server.mjs] }
    listen: 8080
`;

const { dir, parse, problems } = useConfigDir('notify-config');

describe('ferry.yaml notifications', () => {
  it('compiles Slack and signed webhook destinations with their defaults', () => {
    writeFileSync(path.join(dir, 'hook.secret'), 'file-s3cret\n');
    const config = parse(
      `${base}notifications:
  - { kind: slack, url: "https://hooks.slack.com/services/T0/B0/xyz", events: [failed, rolled-back] }
  - { kind: webhook, url: "http://127.0.0.1:9000/in", secret_file: hook.secret, apps: [hello], attempts: 3, timeout: 2s, queue: 10 }
  - { kind: webhook, url: "http://127.0.0.1:9001/in", secret_env: HOOK_SECRET }
`,
      { HOOK_SECRET: 'env-s3cret' },
    );
    expect(config.notifications).toEqual([
      {
        kind: 'slack',
        url: 'https://hooks.slack.com/services/T0/B0/xyz',
        events: ['failed', 'rolled-back'],
        apps: null,
        secret: null,
        timeoutMs: 10_000,
        attempts: 5,
        queue: 100,
      },
      expect.objectContaining({ apps: ['hello'], attempts: 3, timeoutMs: 2000, queue: 10 }),
      expect.objectContaining({
        events: ['started', 'step', 'succeeded', 'failed', 'rolled-back', 'aborted'],
      }),
    ]);
    expect(config.notifications.map((n) => n.secret?.reveal() ?? null)).toEqual([
      null,
      'file-s3cret',
      'env-s3cret',
    ]);
    // What `ferry config check --json` prints, or a log line, never holds the secret.
    const printed = JSON.stringify(config);
    expect(printed).not.toContain('s3cret');
    expect(printed).toContain('"secret":"***"');
    expect(String(config.notifications[1]?.secret)).toBe('***');
    expect(parse(base).notifications).toEqual([]);
  });

  it.each([
    ['an unknown kind', '{ kind: email, url: "https://x.example/" }', /^notifications\.0\.kind: /],
    [
      'a URL that is not http(s)',
      '{ kind: slack, url: "ftp://x.example/" }',
      /^notifications\.0\.url: expected an http\(s\):\/\/ URL/,
    ],
    [
      'an unknown event',
      '{ kind: slack, url: "https://x.example/", events: [deployed] }',
      /^notifications\.0\.events\.0: /,
    ],
    [
      'a webhook without a secret',
      '{ kind: webhook, url: "https://x.example/" }',
      /^notifications\.0: expected one of secret_env or secret_file .*got neither$/,
    ],
    [
      'a Slack destination with a secret',
      '{ kind: slack, url: "https://x.example/", secret_env: HOOK_SECRET }',
      /^notifications\.0: expected no secret_env or secret_file for kind slack/,
    ],
    [
      'a secret variable that is not set',
      '{ kind: webhook, url: "https://x.example/", secret_env: NOT_SET }',
      /^notifications\.0\.secret_env: expected the environment variable NOT_SET to be set/,
    ],
    [
      'a secret file that is missing',
      '{ kind: webhook, url: "https://x.example/", secret_file: missing.secret }',
      /^notifications\.0\.secret_file: expected a readable file holding the signing secret, got ENOENT/,
    ],
    [
      'an app that is not in the file',
      '{ kind: slack, url: "https://x.example/", apps: [helo] }',
      /^notifications\.0\.apps: expected an app of this file \(hello\), got "helo"$/,
    ],
  ])('refuses %s', (_what, entry, expected) => {
    const found = problems(`${base}notifications:\n  - ${entry}\n`, { HOOK_SECRET: 'env-s3cret' });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(expected);
  });

  it('never quotes a secret in a problem', () => {
    const found = problems(
      `${base}notifications:\n  - { kind: webhook, url: "https://x.example/", secret_env: HOOK_SECRET, apps: [nope] }\n`,
      {
        HOOK_SECRET: 'env-s3cret',
      },
    );
    expect(found.join('\n')).not.toContain('env-s3cret');
  });
});
