import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { core } from 'zod';
import { FerryError, describeValue } from '../errors/ferry-error.js';
import { compileConfig, type ConfigProblem } from './compile.js';
import { configSchema } from './schema.js';
import type { FerryConfig } from './types.js';

/** Reads, validates and compiles ferry.yaml. Every problem is reported at once, each with its path. */
export function loadConfig(configPath: string, env: NodeJS.ProcessEnv = process.env): FerryConfig {
  let text: string;
  try {
    text = readFileSync(configPath, 'utf8');
  } catch (error) {
    throw new FerryError(
      'FERRY_E_CONFIG_NOT_FOUND',
      `cannot read the configuration file ${configPath}`,
      { where: configPath },
      { cause: error },
    );
  }
  return parseConfig(text, { configPath: path.resolve(configPath), env });
}

export function parseConfig(
  text: string,
  opts: { configPath: string | null; env?: NodeJS.ProcessEnv; baseDir?: string },
): FerryConfig {
  const where = opts.configPath ?? 'configuration';
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((e) => ({
      path: '(yaml)',
      message: e.message.split('\n')[0] ?? e.message,
    }));
    throw configInvalid(where, problems);
  }
  const input: unknown = doc.toJS() ?? {};
  const parsed = configSchema.safeParse(input);
  if (!parsed.success)
    throw configInvalid(
      where,
      parsed.error.issues.flatMap((i) => describeIssue(i, input)),
    );
  const baseDir = opts.baseDir ?? (opts.configPath ? path.dirname(opts.configPath) : process.cwd());
  const { config, problems } = compileConfig(parsed.data, {
    configPath: opts.configPath,
    baseDir,
    env: opts.env ?? process.env,
  });
  if (problems.length > 0) throw configInvalid(where, problems);
  return config;
}

function configInvalid(where: string, problems: ConfigProblem[]): FerryError {
  const lines = problems.map((p) => `  ${p.path}: ${p.message}`);
  return new FerryError(
    'FERRY_E_CONFIG_INVALID',
    `${where} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${lines.join('\n')}`,
    { where, problems },
  );
}

/** One zod issue as `path: expected ..., got ...` in the words of the config file. */
function describeIssue(issue: core.$ZodIssue, input: unknown): ConfigProblem[] {
  const at = issue.path.map(String);
  const dotted = at.join('.') || '(top level)';
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((key) => ({ path: [...at, key].join('.'), message: 'unknown key' }));
    case 'invalid_type':
      return [
        {
          path: dotted,
          message: `expected ${article(issue.expected)}, got ${describeValue(valueAt(input, at))}`,
        },
      ];
    case 'invalid_value':
      return [
        {
          path: dotted,
          message: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(valueAt(input, at))}`,
        },
      ];
    case 'invalid_union':
      return [{ path: dotted, message: `expected a valid value, got ${describeValue(valueAt(input, at))}` }];
    case 'custom':
      return [{ path: dotted, message: issue.message }];
    case 'invalid_key': {
      const inner = issue.issues[0]?.message ?? 'expected a valid name';
      return [{ path: dotted, message: `${inner}, got ${JSON.stringify(at[at.length - 1])}` }];
    }
    default: {
      if (issue.message.includes(', got ')) return [{ path: dotted, message: issue.message }];
      return [{ path: dotted, message: `${issue.message}, got ${describeValue(valueAt(input, at))}` }];
    }
  }
}

function article(type: string): string {
  const words: Record<string, string> = {
    object: 'a mapping',
    array: 'a list',
    string: 'a string',
    number: 'a number',
    boolean: 'true or false',
  };
  return words[type] ?? type;
}

function valueAt(input: unknown, at: readonly string[]): unknown {
  let value = input;
  for (const key of at) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
