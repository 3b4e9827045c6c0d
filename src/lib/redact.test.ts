import { describe, expect, it } from 'vitest';
import { isSecretName, redactText, redactUrl, urlSecrets } from './redact.js';

describe('redactUrl', () => {
  it('drops userinfo and hides credential query parameters, keeping the rest', () => {
    expect(
      redactUrl(
        'https://user:pa55word@example.com/r/app-{version}.tgz?token=t0ken-value&X-Amz-Date=20240101&v=2',
      ),
    ).toBe('https://example.com/r/app-{version}.tgz?token=***&X-Amz-Date=20240101&v=2');
  });

  it.each([
    'X-Amz-Signature',
    'X-Amz-Credential',
    'X-Amz-Security-Token',
    'X-Goog-Signature',
    'X-Goog-Credential',
    'sig',
    'key',
    'access_token',
    'password',
  ])('hides %s', (name) => {
    const url = redactUrl(`https://bucket.example.com/a.tgz?${name}=the-secret-value`);
    expect(url).not.toContain('the-secret-value');
    expect(url).toContain(`${name}=***`);
  });

  it('hides every value of a repeated parameter', () => {
    expect(redactUrl('http://h/a?sig=one1&sig=two2')).toBe('http://h/a?sig=***');
  });

  it('never returns an unparseable URL as it was', () => {
    expect(redactUrl('http://user:secret@[bad')).toBe('(unparseable URL)');
  });
});

describe('redactText', () => {
  it('redacts every URL in free text and every known secret value, longest first', () => {
    const text =
      'GET https://u:p4ssw0rd@h.example/a.tgz?X-Goog-Signature=abcdef123 failed; token is tok-123456, prefix tok-123456-long';
    expect(redactText(text, ['tok-123456', 'tok-123456-long'])).toBe(
      'GET https://h.example/a.tgz?X-Goog-Signature=*** failed; token is ***, prefix ***',
    );
  });

  it('leaves values too short to be secrets alone', () => {
    expect(redactText('on 1 of 2', ['on', '1'])).toBe('on 1 of 2');
  });
});

describe('urlSecrets', () => {
  it('lists userinfo and credential parameters, decoded and as written', () => {
    expect(urlSecrets('https://alice:p%40ss-word@h/x?X-Amz-Signature=s1gnature&v=1')).toEqual([
      'alice',
      'p%40ss-word',
      'p@ss-word',
      's1gnature',
    ]);
    expect(urlSecrets('not a url')).toEqual([]);
  });
});

describe('isSecretName', () => {
  it.each(['API_TOKEN', 'DB_PASSWORD', 'PASSWD', 'AWS_SECRET_ACCESS_KEY', 'GH_CREDENTIALS', 'AUTH_HEADER'])(
    '%s is secret',
    (name) => expect(isSecretName(name)).toBe(true),
  );
  it.each(['PORT', 'GREETING', 'NODE_ENV'])('%s is not', (name) => expect(isSecretName(name)).toBe(false));
});

describe('redactText on URLs the parser refuses', () => {
  it('still drops their userinfo and credential parameters', () => {
    expect(redactText('see http://u:pw-secret@[bad/x?token=tok-secret&v=1 now')).toBe(
      'see http://[bad/x?token=***&v=1 now',
    );
  });
});
