import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { HostDesiredState } from '../../protocol/desired-state.js';
import { draftRunning } from '../../protocol/test-support/messages.js';
import { desiredFilePath, loadDesiredState, saveDesiredState } from './desired-file.js';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ferry-desired-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const doc = (revision: number, host = 'h1'): HostDesiredState => ({
  host,
  revision,
  ...draftRunning('1.0.0'),
});

describe('the kept desired state', () => {
  it('is none when no file was written yet', async () => {
    expect(await loadDesiredState(join(dir, 'agent'), 'h1')).toEqual({ doc: null, problem: null });
  });

  it('is written whole, owner-only, with no temp file left, and read back', async () => {
    const agentDir = join(dir, 'agent');
    await saveDesiredState(agentDir, doc(3));
    await saveDesiredState(agentDir, doc(4));
    expect(await loadDesiredState(agentDir, 'h1')).toEqual({ doc: doc(4), problem: null });
    expect(await readdir(agentDir)).toEqual(['desired.json']);
    expect((await stat(desiredFilePath(agentDir))).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(desiredFilePath(agentDir), 'utf8'))).toEqual(doc(4));
  });

  it.each([
    ['not JSON', '{"host": "h1", ', /desired\.json: expected JSON, got /],
    [
      'not a desired state',
      '{"host": "h1", "revision": "x", "apps": []}',
      /desired\.json: desired\.revision: /,
    ],
    [
      "another host's",
      JSON.stringify(doc(2, 'h9')),
      /expected the desired state of host "h1", got host "h9"'s/,
    ],
  ])('is not used when the file is %s (the problem is named)', async (_what, text, problem) => {
    await writeFile(desiredFilePath(dir), text);
    const loaded = await loadDesiredState(dir, 'h1');
    expect(loaded.doc).toBeNull();
    expect(loaded.problem).toMatch(problem);
  });

  it('cannot be kept where the data directory is not a directory: FERRY_E_DATA_DIR, nothing left', async () => {
    const file = join(dir, 'file');
    await writeFile(file, '');
    await expect(saveDesiredState(file, doc(1))).rejects.toMatchObject({ code: 'FERRY_E_DATA_DIR' });
    expect(await readdir(dir)).toEqual(['file']);
  });
});
