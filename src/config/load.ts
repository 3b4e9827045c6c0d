import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { core } from 'zod';
import { FerryError, describeValue, messageOf } from '../errors/ferry-error.js';
import { closest } from '../lib/closest.js';
import { compileConfig, type CompileContext, type ConfigProblem } from './compile.js';
import { configSchema } from './schema.js';
import { knownKeys, validPart } from './schema-walk.js';
import type { FerryConfig } from './types.js';
import { yamlSyntaxError } from './yaml-error.js';

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

/**
 * Validates and compiles the text of a ferry.yaml. A YAML syntax error is one message with its
 * line, a caret and a hint; otherwise every problem is reported at once, the cross-field ones
 * (two apps on one port, settings that contradict) included: they are checked on the part of the
 * file that is valid while other fields are wrong.
 */
export function parseConfig(
  text: string,
  opts: { configPath: string | null; env?: NodeJS.ProcessEnv; baseDir?: string },
): FerryConfig {
  const where = opts.configPath ?? 'configuration';
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length > 0) throw yamlSyntaxError(text, doc.errors, where);
  let input: unknown;
  try {
    input = doc.toJS() ?? {};
  } catch (error) {
    // An alias to an anchor that does not exist, an alias loop.
    throw configInvalid(where, [{ path: '(yaml)', message: messageOf(error) }]);
  }
  const ctx: CompileContext = {
    configPath: opts.configPath,
    baseDir: opts.baseDir ?? (opts.configPath ? path.dirname(opts.configPath) : process.cwd()),
    env: opts.env ?? process.env,
  };
  const parsed = configSchema.safeParse(input);
  if (parsed.success) {
    const { config, problems } = compileConfig(parsed.data, ctx);
    if (problems.length > 0) throw configInvalid(where, problems);
    return config;
  }
  const problems = parsed.error.issues.flatMap((i) => describeIssue(i, input));
  const valid = configSchema.safeParse(validPart(configSchema, input));
  if (valid.success) {
    const crossField = compileConfig(valid.data, ctx).problems;
    problems.push(...crossField.filter((p) => !problems.some((known) => overlaps(known.path, p.path))));
  }
  throw configInvalid(where, problems);
}

/** True when one path is the other or lies under it: one problem already covers the other. */
function overlaps(a: string, b: string): boolean {
  return a === b || a.startsWith(`${b}.`) || b.startsWith(`${a}.`);
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
    case 'unrecognized_keys': {
      const known = knownKeys(configSchema, issue.path) ?? [];
      return issue.keys.map((key) => ({ path: [...at, key].join('.'), message: unknownKey(key, known) }));
    }
    case 'invalid_type':
      return [
        {
          path: dotted,
          message: `expected ${article(issue.expected)}, got ${describeValue(valueAt(input, at))}`,
        },
      ];
    case 'invalid_value': {
      const got = valueAt(input, at);
      const near = typeof got === 'string' ? closest(got, issue.values.map(String)) : null;
      return [
        {
          path: dotted,
          message: `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(got)}${near === null ? '' : `; did you mean ${JSON.stringify(near)}?`}`,
        },
      ];
    }
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

/** `unknown key "helth"; did you mean "health"?`, else the keys that are allowed there. */
function unknownKey(key: string, known: readonly string[]): string {
  const near = closest(key, known);
  if (near !== null) return `unknown key ${JSON.stringify(key)}; did you mean ${JSON.stringify(near)}?`;
  if (known.length === 0) return `unknown key ${JSON.stringify(key)}; expected no keys here`;
  return `unknown key ${JSON.stringify(key)}; expected one of ${known.join(', ')}`;
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
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}
