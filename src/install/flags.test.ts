import { describe, expect, it } from 'vitest';
import { isFerryError } from '../errors/ferry-error.js';
import {
  normalizeInstallArgv,
  parseBandwidth,
  parseCount,
  parseDuration,
  parseRsyncVerbose,
} from './flags.js';

function usageMessage(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    if (isFerryError(error, 'FERRY_E_USAGE')) return error.message;
    throw error;
  }
  throw new Error('expected a usage error');
}

describe('normalizeInstallArgv (Go flag spellings)', () => {
  it.each([
    [
      ['-timeout', '10s'],
      ['--timeout', '10s'],
    ],
    [
      ['--timeout', '10s'],
      ['--timeout', '10s'],
    ],
    [['-timeout=10s'], ['--timeout', '10s']],
    [['--retry-wait=5'], ['--retry-wait', '5']],
    [
      ['-max-band-width', '1M'],
      ['--max-bandwidth', '1M'],
    ],
    [['--max-band-width=1M'], ['--max-bandwidth', '1M']],
    // The value after a flag is taken as it is, dash or not, as Go's flag package does.
    [
      ['-rsync-verbose', '-v'],
      ['--rsync-verbose', '-v'],
    ],
    [
      ['--rsync-verbose', '-vv', 'file:///m.yml'],
      ['--rsync-verbose', '-vv', 'file:///m.yml'],
    ],
    [['-rsync-verbose='], ['--rsync-verbose', '']],
    [
      ['-max-bandwidth', '-timeout'],
      ['--max-bandwidth', '-timeout'],
    ],
    [['-no-cache'], ['--no-cache']],
    [['-no-cache=true'], ['--no-cache']],
    [['-no-cache=false'], []],
    [['-no-cache=maybe'], ['--no-cache=maybe']],
    [['-v'], ['--version']],
    [['-version=1'], ['--version']],
    [['-help'], ['--help']],
    [
      ['-lock-wait', '1m', '-cache-dir', '/c'],
      ['--lock-wait', '1m', '--cache-dir', '/c'],
    ],
    [['-h'], ['-h']],
    [
      ['-bogus', 'x'],
      ['-bogus', 'x'],
    ],
    [['-timeout'], ['--timeout']],
    [
      ['--', '-timeout', '1'],
      ['--', '-timeout', '1'],
    ],
  ])('%j -> %j', (argv, expected) => {
    expect(normalizeInstallArgv(argv)).toEqual(expected);
  });
});

describe('parseDuration', () => {
  it.each([
    ['30s', 'int', 30_000],
    ['1m30s', 'int', 90_000],
    ['.5s', 'decimal', 500],
    ['1.5h', 'decimal', 5_400_000],
    ['10µs', 'decimal', 1],
    ['0', 'int', 0],
    ['10', 'int', 10_000],
    ['+10', 'int', 10_000],
    // stretcher 1.x read -timeout and -retry-wait with flag.Int64 (Go integer syntax) ...
    ['010', 'int', 8_000],
    ['0x10', 'int', 16_000],
    ['1_000', 'int', 1_000_000],
    // ... and -random-delay with flag.Float64.
    ['010', 'decimal', 10_000],
    ['1.5', 'decimal', 1_500],
    ['1.5', 'int', 1_500],
    ['0.3', 'decimal', 300],
  ] as const)('%j (%s) -> %d ms', (text, seconds, ms) => {
    expect(parseDuration(text, '--timeout', seconds)).toBe(ms);
  });

  it.each([
    ['fast', 'got "fast"'],
    ['1d', 'got "1d"'],
    ['', 'got ""'],
    [' 10s', 'got " 10s"'],
    ['-5s', 'not negative, got "-5s"'],
    ['-1', 'not negative, got "-1"'],
    ['25d', 'got "25d"'],
    ['600h', 'at most 24 days, got "600h"'],
  ])('refuses %j', (text, tail) => {
    expect(usageMessage(() => parseDuration(text, '--timeout', 'int'))).toBe(
      `--timeout: expected a duration like "30s", "1m30s" or "500ms", or a number of seconds, ${tail}`,
    );
  });
});

describe('parseBandwidth (go-humanize)', () => {
  it.each([
    ['10M', 10_000_000],
    ['10Mi', 10_485_760],
    ['10 MiB', 10_485_760],
    ['1.5k', 1_500],
    ['1048576', 1_048_576],
    // stretcher sets no limit for an empty -max-bandwidth.
    ['', 0],
    ['0', 0],
    ['16E', Number.MAX_SAFE_INTEGER],
  ])('%j -> %d B/s', (text, bytes) => {
    expect(parseBandwidth(text, '--max-bandwidth')).toBe(bytes);
  });

  it.each(['fast', '-1M', ' 10M', '10Mbps', '20EB'])('refuses %j', (text) => {
    expect(usageMessage(() => parseBandwidth(text, '--max-bandwidth'))).toBe(
      `--max-bandwidth: expected bytes per second like 10M (10,000,000), 10Mi (10,485,760) or 1048576, got ${JSON.stringify(text)}`,
    );
  });
});

describe('parseCount and parseRsyncVerbose', () => {
  it('reads counts with Go integer syntax, not negative', () => {
    expect(parseCount('3', '--retry')).toBe(3);
    expect(parseCount('+3', '--retry')).toBe(3);
    expect(parseCount('010', '--retry')).toBe(8);
    for (const text of ['-1', '1.5', 'three', '', '9007199254740992']) {
      expect(usageMessage(() => parseCount(text, '--retry'))).toBe(
        `--retry: expected a whole number, 0 or more, got ${JSON.stringify(text)}`,
      );
    }
  });

  it('accepts the rsync verbosities stretcher accepts', () => {
    for (const level of ['', '-v', '-vv', '-vvv'])
      expect(parseRsyncVerbose(level, '--rsync-verbose')).toBe(level);
    expect(usageMessage(() => parseRsyncVerbose('-vvvv', '--rsync-verbose'))).toBe(
      '--rsync-verbose: expected "", -v, -vv or -vvv, got "-vvvv"',
    );
  });
});
