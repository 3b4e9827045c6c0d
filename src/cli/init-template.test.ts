import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.js';
import { appNameArg, commandArg, defaultAppName, initTemplate } from './init-template.js';

const dir = (files: Record<string, string>, baseName = 'My Shop') => ({
  baseName,
  read: (file: string) => (Object.hasOwn(files, file) ? files[file] : undefined),
});

function compile(text: string) {
  return parseConfig(text, { configPath: '/srv/shop/ferry.yaml', env: { FERRY_HOME: '/tmp/ferry-init' } });
}

describe('ferry init', () => {
  it('writes a valid ferry.yaml from the directory alone: its name, a guessed command, TCP health', () => {
    const text = initTemplate({}, dir({ 'package.json': '{"scripts":{"start":"node ."}}' }));
    const app = compile(text).apps['my-shop']!;
    expect(app.run).toMatchObject({ command: 'npm', args: ['start'] });
    expect(app.health.check).toEqual({ kind: 'tcp' });
    expect(app.environments.production!.listen).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(app.artifact.url).toBe('file:///srv/shop/dist/my-shop-{version}.tar.gz');
    expect(text).toMatch(/^# ferry.yaml for my-shop, written by `ferry init`/);
    expect(text).toContain('guessed from package.json (scripts.start)');
  });

  it('takes name, command, port and health path from flags', () => {
    const text = initTemplate(
      { name: 'api', command: `python3 -m http.server --bind "127.0.0.1"`, port: 9090, health: '/ready' },
      dir({}),
    );
    const app = compile(text).apps.api!;
    expect(app.run).toMatchObject({ command: 'python3', args: ['-m', 'http.server', '--bind', '127.0.0.1'] });
    expect(app.health.check).toMatchObject({ kind: 'http', path: '/ready', expectStatus: [200] });
    expect(app.environments.production!.listen.port).toBe(9090);
  });

  it('says when it had nothing to guess from', () => {
    const text = initTemplate({}, dir({}, '---'));
    expect(compile(text).apps.app!.run.command).toBe('./start');
    expect(text).toContain('nothing found to guess from');
  });

  it('names what is wrong with a flag', () => {
    expect(defaultAppName('Hello World!')).toBe('hello-world');
    expect(() => appNameArg('Web App')).toThrow(InvalidArgumentError);
    expect(() => appNameArg('Web App')).toThrow(/^--name: expected an app name of lowercase letters/);
    expect(() => commandArg('node "server.js')).toThrow(
      '--command: expected a closing ", got "node "server.js"',
    );
    expect(commandArg(`sh -c 'exec node server.js'`)).toEqual(['sh', '-c', 'exec node server.js']);
  });
});
