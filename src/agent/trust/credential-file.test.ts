import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { credentialFile, readAgentCredential, saveAgentCredential } from './credential-file.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'ferry-credential-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("the agent's credential file", () => {
  it('is kept owner-only and read back; absent before enrollment', () => {
    const dataDir = path.join(dir, 'agent');
    expect(readAgentCredential(dataDir)).toBeUndefined();
    saveAgentCredential(dataDir, 'ferry-agent.0123456789abcdef.secret');
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    expect(statSync(credentialFile(dataDir)).mode & 0o777).toBe(0o600);
    expect(readAgentCredential(dataDir)).toBe('ferry-agent.0123456789abcdef.secret');
  });

  it('is refused when empty, never replaced', () => {
    writeFileSync(credentialFile(dir), '\n');
    expect(() => readAgentCredential(dir)).toThrow(/is empty: delete it and enroll again/);
  });
});
