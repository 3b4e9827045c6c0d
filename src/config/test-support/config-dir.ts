import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { isFerryError } from '../../errors/ferry-error.js';
import { parseConfig } from '../load.js';
import type { FerryConfig } from '../types.js';

/** The problems of a configuration `parse` refuses, as `path: message` lines; none when it is valid. */
export function problemsOf(parse: () => unknown): string[] {
  try {
    parse();
  } catch (error) {
    if (isFerryError(error, 'FERRY_E_CONFIG_INVALID'))
      return (error.details.problems as Array<{ path: string; message: string }>).map(
        (p) => `${p.path}: ${p.message}`,
      );
    throw error;
  }
  return [];
}

/**
 * A temp directory for a test file's ferry.yaml texts (its relative paths and secret files resolve
 * there; removed after the file), with `parse` and `problems` of a text in it. `prefix` is put
 * before every text (the parts the tests share).
 */
export function useConfigDir(name: string, prefix = '') {
  const dir = mkdtempSync(path.join(tmpdir(), `ferry-${name}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const parse = (yaml: string, env: NodeJS.ProcessEnv = {}): FerryConfig =>
    parseConfig(`${prefix}${yaml}`, {
      configPath: path.join(dir, 'ferry.yaml'),
      env: { FERRY_HOME: dir, ...env },
    });
  const problems = (yaml: string, env: NodeJS.ProcessEnv = {}): string[] =>
    problemsOf(() => parse(yaml, env));
  return { dir, parse, problems };
}
