import { describe, expect, it } from 'vitest';
import { parseGoDuration, parseGoFloat, parseGoInt, parseHumanizeBytes } from './go-flag-values.js';

// Expected values as go-humanize v1.0.0 and Go's strconv and time packages give them (checked
// against Go 1.19 with go-humanize's bytes.go; null: Go returns an error).
describe('parseHumanizeBytes (go-humanize ParseBytes)', () => {
  it.each([
    ['10M', 10_000_000],
    ['10MB', 10_000_000],
    ['10mb', 10_000_000],
    ['10Mi', 10_485_760],
    ['10MiB', 10_485_760],
    ['10 mib', 10_485_760],
    ['42 MB', 42_000_000],
    ['10M ', 10_000_000],
    ['1.5M', 1_500_000],
    ['1.5Mi', 1_572_864],
    ['512K', 512_000],
    ['512k', 512_000],
    ['512KB', 512_000],
    ['512KiB', 524_288],
    ['1G', 1_000_000_000],
    ['1GiB', 1_073_741_824],
    ['2T', 2e12],
    ['1048576', 1_048_576],
    ['1048576B', 1_048_576],
    ['1048576 b', 1_048_576],
    ['1,024', 1024],
    ['1,024K', 1_024_000],
    ['.5K', 500],
    ['5.K', 5000],
    ['0.5', 0],
    ['1.9', 1],
    ['0', 0],
    ['1E', 1e18],
    ['15EiB', 15 * 2 ** 60],
    ['16EiB', null],
    ['20E', null],
    [' 10M', null],
    ['10 M B', null],
    ['10MBs', null],
    ['10Kb/s', null],
    ['fast', null],
    ['', null],
    ['.', null],
    ['1.2.3M', null],
    ['-10M', null],
    ['+10M', null],
    ['1e3', null],
    ['10X', null],
  ])('%j -> %j', (text, expected) => {
    expect(parseHumanizeBytes(text) ?? null).toBe(expected);
  });
});

describe('parseGoInt (strconv.ParseInt base 0)', () => {
  it.each([
    ['0', 0n],
    ['3', 3n],
    ['+3', 3n],
    ['-1', -1n],
    ['010', 8n],
    ['0x10', 16n],
    ['0X1f', 31n],
    ['0o17', 15n],
    ['0b101', 5n],
    ['1_000', 1000n],
    ['0x_1F', 31n],
    ['9223372036854775807', 9223372036854775807n],
    ['9223372036854775808', null],
    ['08', null],
    ['1__0', null],
    ['_1', null],
    ['1_', null],
    ['0x', null],
    ['1.5', null],
    ['3s', null],
    [' 3', null],
    ['', null],
  ])('%j -> %s', (text, expected) => {
    expect(parseGoInt(text) ?? null).toBe(expected);
  });
});

describe('parseGoFloat (strconv.ParseFloat, decimal)', () => {
  it.each([
    ['1.5', 1.5],
    ['.5', 0.5],
    ['5.', 5],
    ['+2', 2],
    ['010', 10],
    ['1e3', 1000],
    ['1.5s', null],
    ['', null],
    ['.', null],
  ])('%j -> %j', (text, expected) => {
    expect(parseGoFloat(text) ?? null).toBe(expected);
  });
});

describe('parseGoDuration (time.ParseDuration), in nanoseconds', () => {
  it.each([
    ['0', 0],
    ['+0', 0],
    ['30s', 30e9],
    ['1m30s', 90e9],
    ['1.5h', 5400e9],
    ['2h45m', 9900e9],
    ['300ms', 300e6],
    ['.5s', 500e6],
    ['1.s', 1e9],
    ['10us', 10e3],
    ['10µs', 10e3],
    ['10μs', 10e3],
    ['1ns', 1],
    ['-5s', -5e9],
    ['10', null],
    ['1d', null],
    ['.s', null],
    ['1sm', null],
    ['s', null],
    [' 1s', null],
    ['', null],
    ['3000000h', null],
  ])('%j -> %j', (text, expected) => {
    expect(parseGoDuration(text) ?? null).toBe(expected);
  });
});
