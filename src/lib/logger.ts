import { destination, multistream, pino, type Logger as PinoLogger } from 'pino';
import { readableLogStream } from './log-format.js';

export type Logger = Pick<PinoLogger, 'info' | 'warn' | 'error' | 'debug' | 'child'>;

/**
 * The daemon's JSON logger. Fields that can hold secrets are redacted wherever they appear, so a
 * token, an auth header or an app's environment never reaches a log line. With `terminal`, each
 * entry is also printed there as one readable line (formatted from the redacted JSON).
 */
export function createLogger(
  opts: {
    level?: string;
    destination?: number | string;
    /** A terminal to print readable lines on, besides the JSON destination. */
    terminal?: NodeJS.WritableStream & { isTTY?: boolean };
  } = {},
): Logger {
  const json = destination({ dest: opts.destination ?? 1, sync: false, mkdir: true });
  const level = opts.level ?? process.env.FERRY_LOG_LEVEL ?? 'info';
  const stream =
    opts.terminal === undefined
      ? json
      : multistream([
          { stream: json, level: level as 'info' },
          {
            stream: readableLogStream(opts.terminal, {
              color: opts.terminal.isTTY === true && !process.env.NO_COLOR,
            }),
            level: level as 'info',
          },
        ]);
  return pino(
    {
      level,
      redact: {
        paths: [
          'token',
          '*.token',
          'headers.authorization',
          '*.headers.authorization',
          'authorization',
          'env',
          '*.env',
          'headers',
          '*.headers',
        ],
        censor: '[redacted]',
      },
      base: { pid: process.pid },
    },
    stream,
  );
}

/** A logger that drops everything (tests, commands that print their own output). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
