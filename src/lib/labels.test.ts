import { describe, expect, it } from 'vitest';
import { parseLabelWords } from './labels.js';

describe('labels from key=value words', () => {
  it('takes each word once, sorted by key, with no prototype', () => {
    const labels = parseLabelWords(['zone=a', 'role=web', 'constructor=x'], '--label');
    expect(Object.entries(labels)).toEqual([
      ['constructor', 'x'],
      ['role', 'web'],
      ['zone', 'a'],
    ]);
    expect(Object.getPrototypeOf(labels)).toBeNull();
    expect(parseLabelWords([], '--label')).toEqual({});
  });

  it('refuses a word without key=value, a key twice, and what labels may not be, naming the flag', () => {
    for (const [words, message] of [
      [['role'], '--label: expected key=value, e.g. role=web, got "role"'],
      [['=web'], '--label: expected key=value, e.g. role=web, got "=web"'],
      [['role=web', 'role=db'], '--label: expected each label key once, got "role" twice'],
      [['Role=web'], /^--label: expected label keys .*, got "Role"$/],
      [['role='], /^--label\.role: expected a value of 1 to 63 .*, got ""$/],
    ] as const) {
      let thrown: { code?: string; message?: string } = {};
      try {
        parseLabelWords(words, '--label');
      } catch (error) {
        thrown = error as typeof thrown;
      }
      expect(thrown.code, words.join(' ')).toBe('FERRY_E_USAGE');
      if (typeof message === 'string') expect(thrown.message).toBe(message);
      else expect(thrown.message).toMatch(message);
    }
  });
});
