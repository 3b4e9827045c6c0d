import { destination, pino, type Logger as PinoLogger } from 'pino';

export type Logger = Pick<PinoLogger, 'info' | 'warn' | 'error' | 'debug' | 'child'>;

/**
 * The daemon's JSON logger. Fields that can hold secrets are redacted wherever they appear, so a
 * token, an auth header or an app's environment never reaches a log line.
 */
export function createLogger(opts: { level?: string; destination?: number | string } = {}): Logger {
  return pino(
    {
      level: opts.level ?? process.env.FERRY_LOG_LEVEL ?? 'info',
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
    destination({ dest: opts.destination ?? 1, sync: false, mkdir: true }),
  );
}

/** A logger that drops everything (tests, commands that print their own output). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
