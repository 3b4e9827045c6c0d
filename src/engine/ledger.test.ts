import { describe, expect, it } from 'vitest';
import { chooseRollbackTarget, mayDeployAutomatically, type LedgerEntry } from './ledger.js';

function entry(
  version: string,
  status: LedgerEntry['status'],
  goodAt: number | null,
  createdAt: number,
): LedgerEntry {
  return { version, status, goodAt, createdAt, reason: status === 'new' ? null : `${status} for a reason` };
}

describe('rollback target', () => {
  it('is the most recently good release other than the current one, never a bad or rolled-back one', () => {
    const ledger = [
      entry('1.3.0', 'bad', 400, 400),
      entry('1.2.0', 'rolled-back', 300, 300),
      entry('1.1.0', 'good', 200, 200),
      entry('1.0.0', 'good', 100, 100),
    ];
    expect(chooseRollbackTarget(ledger, '1.1.0')).toEqual({ ok: true, version: '1.0.0' });
    expect(chooseRollbackTarget(ledger, '1.0.0')).toEqual({ ok: true, version: '1.1.0' });
  });

  it('after a rollback left 1.2.0, the next one goes further back instead of returning to it', () => {
    const before = [
      entry('1.2.0', 'good', 300, 300),
      entry('1.1.0', 'good', 200, 200),
      entry('1.0.0', 'good', 100, 100),
    ];
    expect(chooseRollbackTarget(before, '1.2.0')).toEqual({ ok: true, version: '1.1.0' });
    // The rollback succeeded: 1.1.0 is good again (now), 1.2.0 rolled back.
    const after = [
      entry('1.2.0', 'rolled-back', 300, 300),
      entry('1.1.0', 'good', 500, 200),
      entry('1.0.0', 'good', 100, 100),
    ];
    expect(chooseRollbackTarget(after, '1.1.0')).toEqual({ ok: true, version: '1.0.0' });
  });

  it('takes a named release even when bad or rolled back, and explains what it cannot do', () => {
    const ledger = [entry('1.1.0', 'rolled-back', 200, 200), entry('1.0.0', 'good', 100, 100)];
    expect(chooseRollbackTarget(ledger, '1.0.0', '1.1.0')).toEqual({ ok: true, version: '1.1.0' });
    expect(chooseRollbackTarget(ledger, '1.0.0', '9.9.9')).toEqual({
      ok: false,
      reason: 'release 9.9.9 is not known here',
    });
    expect(chooseRollbackTarget(ledger, '1.0.0')).toEqual({
      ok: false,
      reason: 'no good release other than 1.0.0 to roll back to',
    });
  });
});

describe('automatic sources (release watchers, webhooks)', () => {
  const table: Array<[string, LedgerEntry[], string, boolean | RegExp]> = [
    ['an unknown release', [entry('1.0.0', 'good', 100, 100)], '1.1.0', true],
    ['a new release', [entry('1.1.0', 'new', null, 200)], '1.1.0', true],
    ['a good release', [entry('1.1.0', 'good', 300, 200)], '1.1.0', true],
    [
      'a bad release, the newest',
      [entry('1.1.0', 'bad', null, 200), entry('1.0.0', 'good', 100, 100)],
      '1.1.0',
      /^release 1\.1\.0 is marked bad \(bad for a reason\); nothing is deployed automatically until a newer release exists$/,
    ],
    [
      'a rolled-back release, the newest',
      [entry('1.1.0', 'rolled-back', 300, 200)],
      '1.1.0',
      /marked rolled-back .*until a newer release exists/,
    ],
    [
      'a bad release with a newer one',
      [entry('1.2.0', 'new', null, 300), entry('1.1.0', 'bad', null, 200)],
      '1.1.0',
      /newer releases exist; automation deploys the newest instead/,
    ],
  ];
  it.each(table)('%s', (_name, ledger, version, expected) => {
    const choice = mayDeployAutomatically(ledger, version);
    if (expected === true) expect(choice).toEqual({ ok: true, version });
    else expect(choice.ok === false && choice.reason).toMatch(expected as RegExp);
  });
});
