import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readManifestUrl } from './event.js';

const consulEvent = (url: string) => ({
  ID: url,
  Name: 'deploy',
  Payload: Buffer.from(url).toString('base64'),
  LTime: 1,
});

describe('readManifestUrl', () => {
  it('prefers the argument', () => {
    expect(readManifestUrl('file:///a.yml', 'file:///b.yml\n', {})).toBe('file:///a.yml');
  });

  it('takes the last of several Consul events', () => {
    const stdin = JSON.stringify([consulEvent('file:///old.yml'), consulEvent('file:///new.yml')]);
    expect(readManifestUrl(undefined, stdin, { CONSUL_INDEX: '7' })).toBe('file:///new.yml');
    expect(readManifestUrl(undefined, stdin, {})).toBe('file:///new.yml');
  });

  it('reads what `consul watch -type event` writes (a recorded event list, every field)', () => {
    const recorded = readFileSync(
      new URL('./test-support/consul-watch-events.json', import.meta.url),
      'utf8',
    );
    expect(readManifestUrl(undefined, recorded, { CONSUL_INDEX: '19' })).toBe(
      'https://releases.example.com/app/1.1.0/manifest.yml',
    );
  });

  it('names a Consul event without a payload', () => {
    const stdin = JSON.stringify([{ ID: 'x', Name: 'deploy', Payload: null, Version: 1, LTime: 3 }]);
    expect(() => readManifestUrl(undefined, stdin, { CONSUL_INDEX: '3' })).toThrow(
      'Consul event: expected a base64 Payload, got none',
    );
  });

  it('fails on an empty Consul event list', () => {
    expect(() => readManifestUrl(undefined, '[]', { CONSUL_INDEX: '1' })).toThrow('No Consul events found');
  });

  it('reads a Serf payload or a plain line: the first line', () => {
    expect(readManifestUrl(undefined, 'http://x/m.yml\nignored\n', {})).toBe('http://x/m.yml');
    expect(() => readManifestUrl(undefined, '', {})).toThrow(
      'manifest URL: expected an argument or a line on stdin',
    );
  });

  it('reads a plain line when CONSUL_INDEX is set but empty, as stretcher does', () => {
    expect(readManifestUrl(undefined, 'http://x/m.yml\n', { CONSUL_INDEX: '' })).toBe('http://x/m.yml');
    expect(() => readManifestUrl(undefined, 'http://x/m.yml\n', { CONSUL_INDEX: '0' })).toThrow(
      'Consul events: expected a JSON array on stdin, got invalid JSON',
    );
  });
});
