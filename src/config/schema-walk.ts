import type { z } from 'zod';

/**
 * Reading the one config schema as a tree: the keys a mapping may have (for "did you mean"), and
 * the part of a file that is valid (so that cross-field checks run even while other fields are
 * wrong). Wrappers (optional, default, prefault, nullable) are looked through.
 */

type Schema = z.ZodType;

interface Def {
  readonly type: string;
  readonly innerType?: Schema;
  readonly shape?: Readonly<Record<string, Schema>>;
  readonly keyType?: Schema;
  readonly valueType?: Schema;
  readonly element?: Schema;
}

const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'nonoptional', 'readonly']);

function defOf(schema: Schema): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

/** The schema under its wrappers. */
function unwrap(schema: Schema): Schema {
  let current = schema;
  for (let def = defOf(current); WRAPPERS.has(def.type) && def.innerType; def = defOf(current))
    current = def.innerType;
  return current;
}

/** The keys the mapping at `path` may have, or null when there is no fixed set there. */
export function knownKeys(schema: Schema, path: readonly PropertyKey[]): string[] | null {
  let current: Schema | undefined = schema;
  for (const step of path) {
    if (current === undefined) return null;
    const def = defOf(unwrap(current));
    if (def.type === 'object') current = def.shape?.[String(step)];
    else if (def.type === 'record') current = def.valueType;
    else if (def.type === 'array') current = def.element;
    else return null;
  }
  if (current === undefined) return null;
  const def = defOf(unwrap(current));
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : null;
}

const DROP = Symbol('drop');

/**
 * The input with every part the schema refuses left out, recursively: an unknown key, an invalid
 * value (its default applies), an entry of a record whose name or value is invalid, a mapping that
 * is still invalid without them (a required field was wrong). Null when nothing valid remains.
 */
export function validPart(schema: Schema, input: unknown): unknown {
  const kept = keepValid(schema, input);
  return kept === DROP ? null : kept;
}

function keepValid(schema: Schema, value: unknown): unknown {
  if (schema.safeParse(value).success) return value;
  if (!isMapping(value)) return DROP;
  const def = defOf(unwrap(schema));
  // Without a prototype: a variable named __proto__ is kept as a key like any other.
  const kept = Object.create(null) as Record<string, unknown>;
  if (def.type === 'object' && def.shape) {
    for (const [key, field] of Object.entries(def.shape)) {
      if (!Object.hasOwn(value, key)) continue;
      const part = keepValid(field, value[key]);
      if (part !== DROP) kept[key] = part;
    }
  } else if (def.type === 'record' && def.keyType && def.valueType) {
    for (const [key, entry] of Object.entries(value)) {
      if (!def.keyType.safeParse(key).success) continue;
      const part = keepValid(def.valueType, entry);
      if (part !== DROP) kept[key] = part;
    }
  } else {
    return DROP;
  }
  return schema.safeParse(kept).success ? kept : DROP;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
