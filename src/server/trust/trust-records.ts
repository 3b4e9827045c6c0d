import { z } from 'zod';
import { FerryError, messageOf } from '../../errors/ferry-error.js';
import { labelsOf, type Labels } from '../../lib/labels.js';
import type { KvEntry } from '../../store/kv/kv.js';

/**
 * Where enrollment keeps its records in the key-value store. Ids are 16 hex digits (checked
 * before they reach a key); host names come from agents, so their index key is encoded.
 */
export const trustKeys = {
  joinTokens: '/trust/join-tokens/',
  joinToken: (id: string) => `/trust/join-tokens/${id}`,
  hosts: '/trust/hosts/',
  host: (id: string) => `/trust/hosts/${id}`,
  /** One per enrolled, unrevoked host, holding its id: names are unique without case. */
  hostName: (name: string) => `/trust/host-names/${encodeURIComponent(name.toLowerCase())}`,
};

const labelsSchema = z.record(z.string(), z.string());

const joinTokenSchema = z.object({
  id: z.string(),
  secretSha256: z.string(),
  createdAt: z.number(),
  expiresAt: z.number(),
  uses: z.number().int(),
  usesLeft: z.number().int(),
  labels: labelsSchema,
});

const hostSchema = z.object({
  id: z.string(),
  name: z.string(),
  labels: labelsSchema,
  enrolledAt: z.number(),
  credentialSha256: z.string(),
  joinTokenId: z.string(),
  revokedAt: z.number().nullable(),
});

/** A join token as stored: its secret only as a hash. */
export type JoinTokenRecord = Omit<z.infer<typeof joinTokenSchema>, 'labels'> & { readonly labels: Labels };
/** An enrolled host as stored: its credential only as a hash. */
export type HostRecord = Omit<z.infer<typeof hostSchema>, 'labels'> & { readonly labels: Labels };

export function parseJoinTokenRecord(entry: KvEntry): JoinTokenRecord {
  const record = parseRecord(entry, joinTokenSchema);
  return { ...record, labels: labelsOf(Object.entries(record.labels)) };
}

export function parseHostRecord(entry: Pick<KvEntry, 'key' | 'value'>): HostRecord {
  const record = parseRecord(entry, hostSchema);
  return { ...record, labels: labelsOf(Object.entries(record.labels)) };
}

function parseRecord<T>(entry: Pick<KvEntry, 'key' | 'value'>, schema: z.ZodType<T>): T {
  try {
    return schema.parse(JSON.parse(entry.value));
  } catch (error) {
    throw new FerryError('FERRY_E_STORE', `the record at ${entry.key} is damaged: ${messageOf(error)}`, {
      where: entry.key,
    });
  }
}
