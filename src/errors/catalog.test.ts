import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { catalog } from './catalog.js';
import { FerryError } from './ferry-error.js';

describe('error catalog', () => {
  it('is documented: docs/errors.md lists every code', () => {
    const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const missing = Object.keys(catalog).filter((code) => !doc.includes(`\`${code}\``));
    expect(missing).toEqual([]);
  });

  it('maps each code to an HTTP status and an exit code', () => {
    const error = new FerryError('FERRY_E_DEPLOYMENT_IN_PROGRESS', 'busy', { app: 'hello' });
    expect(error.httpStatus).toBe(409);
    expect(error.exitCode).toBe(1);
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      code: 'FERRY_E_DEPLOYMENT_IN_PROGRESS',
      message: 'busy',
      details: { app: 'hello' },
    });
  });
});
