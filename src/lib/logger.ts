import { destination, multistream, pino, type Logger as PinoLogger } from 'pino';
import { readableLogStream } from './log-format.js';
import { isName } from './names.js';

export type Logger = Pick<PinoLogger, 'info' | 'warn' | 'error' | 'debug' | 'child'>;

const CENSOR = '[redacted]';

/**
 * Fields that can hold secrets, hidden wherever they appear: a token, an auth header, an app's
 * variables. `env` is both an environment's name (`{ app, env }` on most lines) and, as `run.env`
 * or a bare map, the variables an instance gets; only a name is kept.
 */
export const LOG_REDACTION = {
  paths: [
    'token',
    '*.token',
    'headers.authorization',
    '*.headers.authorization',
    'authorization',
    'env',
    '*.env',
    'run.env',
    '*.run.env',
    'headers',
    '*.headers',
  ],
  censor: (value: unknown, path: string[]): unknown => {
    const isEnvironmentName = path.at(-1) === 'env' && path.at(-2) !== 'run' && isName(value);
    return isEnvironmentName ? value : CENSOR;
  },
};

/**
 * The daemon's JSON logger, with LOG_REDACTION. With `terminal`, each entry is also printed there as
 * one readable line (formatted from the redacted JSON).
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
      redact: LOG_REDACTION,
      base: { pid: process.pid },
    },
    stream,
  );
}

/** A logger that drops everything (tests, commands that print their own output). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
