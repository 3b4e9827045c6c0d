import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isFerryError } from '../errors/ferry-error.js';
import { readDaemonSettings } from './daemon-settings.js';
import { apiUrlOf } from './listen-address.js';
import { loadConfig } from './load.js';

const APP = `apps:
  web:
    artifact: { url: "dist/web-{version}.tar.gz" }
    run: { command: node }
    listen: 8080
`;

/** data_dir and api read alone must mean what the whole loader makes of them. */
describe('a ferry.yaml read for its daemon only', () => {
  let dir: string;
  const write = (name: string, text: string) => {
    const file = path.join(dir, name);
    writeFileSync(file, text);
    return file;
  };

  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-settings-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each([
    ['nothing set', APP],
    [
      'a relative data_dir and a listen address',
      `data_dir: ./state\napi: { listen: "127.0.0.1:7171" }\n${APP}`,
    ],
    ['an absolute data_dir, a port alone', `data_dir: /var/lib/ferry\napi: { listen: 7272 }\n${APP}`],
    ['IPv6 with TLS', `api:\n  listen: "[::1]:7373"\n  tls: { cert: certs/c.pem, key: certs/k.pem }\n${APP}`],
    ['an empty data_dir (the default)', `data_dir: ""\n${APP}`],
  ])('%s: as the loader compiles it', async (_name, text) => {
    const file = write('ferry.yaml', text);
    const { FERRY_HOME: _home, ...env } = process.env;
    const config = loadConfig(file, env);
    const settings = await readDaemonSettings(file);
    expect(settings.apiUrl).toBe(apiUrlOf(config.api.listen, config.api.tls !== null));
    expect(settings.certFile).toBe(config.api.tls?.certFile ?? null);
    expect(settings.dataDir ?? path.join(os.homedir(), '.ferry')).toBe(config.dataDir);
    expect(settings.listenSet).toBe(/^api:.*listen|^ {2}listen:/m.test(text));
  });

  it.each([
    ['broken YAML', 'api: {'],
    ['a listen address that is not one', `api: { listen: "localhost:http" }\n${APP}`],
    ['a data_dir that is not a path', `data_dir: [a]\n${APP}`],
    ['TLS without a certificate', `api: { tls: { key: k.pem } }\n${APP}`],
  ])('%s: the error of ferry config check', async (_name, text) => {
    const file = write('bad.yaml', text);
    const expected = (() => {
      try {
        loadConfig(file);
      } catch (error) {
        return error;
      }
      throw new Error('expected the loader to refuse it');
    })();
    const got = await readDaemonSettings(file).catch((error: unknown) => error);
    expect(isFerryError(got, 'FERRY_E_CONFIG_INVALID')).toBe(true);
    expect((got as Error).message).toBe((expected as Error).message);
  });

  it("a missing file: the loader's error", async () => {
    const got = await readDaemonSettings(path.join(dir, 'none.yaml')).catch((error: unknown) => error);
    expect(isFerryError(got, 'FERRY_E_CONFIG_NOT_FOUND')).toBe(true);
  });
});
