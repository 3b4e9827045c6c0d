import { createRequire } from 'node:module';
import type { CronExpressionParser } from 'cron-parser';

let parser: typeof CronExpressionParser | undefined;

/**
 * cron-parser, loaded the first time a deploy window is read: it brings luxon (half a megabyte of
 * source kept in memory), which a daemon without windows never needs. It is CommonJS, so it loads
 * synchronously, as the config's checks need.
 */
export function cronParser(): typeof CronExpressionParser {
  parser ??= (createRequire(import.meta.url)('cron-parser') as typeof import('cron-parser'))
    .CronExpressionParser;
  return parser;
}
