import { Validator } from '@seriousme/openapi-schema-validator';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from './openapi.js';
import { API_ROUTES } from './routes.js';

type Json = Record<string, unknown>;

/** The value at a path of keys in a JSON document. */
const at = (value: unknown, ...keys: string[]): unknown =>
  keys.reduce<unknown>((node, key) => (node as Json | undefined)?.[key], value);

describe('the OpenAPI document', () => {
  const document = openApiDocument('0.0.0-test');

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(document);
    expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('has every route of the table, with the token everywhere but /healthz', () => {
    const operations = Object.entries(document.paths as Record<string, Json>).flatMap(([path, methods]) =>
      Object.values(methods).map((op) => ({ path, op: op as Json })),
    );
    expect(operations.map((o) => o.op.operationId).sort()).toEqual(Object.keys(API_ROUTES).sort());
    expect(document.security).toEqual([{ token: [] }]);
    const open = operations.filter((o) => o.op.security !== undefined).map((o) => o.path);
    expect(open).toEqual(['/healthz']);
  });

  it('describes requests as they are validated: path parameters, queries with defaults, optional bodies', () => {
    expect(at(document, 'paths', '/v1/apps/{app}/history', 'get', 'parameters')).toEqual([
      { name: 'app', in: 'path', required: true, schema: { type: 'string' } },
      { name: 'env', in: 'query', required: false, schema: { type: 'string', minLength: 1 } },
      {
        name: 'limit',
        in: 'query',
        required: false,
        schema: { type: 'integer', minimum: 1, maximum: 1000, default: 20 },
      },
    ]);
    expect(at(document, 'paths', '/v1/deployments', 'post', 'requestBody', 'required')).toBe(true);
    // pause/resume/promote/abort take a body whose fields are all optional.
    expect(at(document, 'paths', '/v1/apps/{app}/{command}', 'post', 'requestBody', 'required')).toBe(false);
    expect(at(document, 'components', 'schemas', 'DeployBody')).toMatchObject({
      required: ['app', 'version'],
      additionalProperties: false,
    });
    expect(at(document, 'components', 'schemas', 'Deployment', 'additionalProperties')).toBe(false);
    // A release added by hand: deploy defaults to true, so only the version is required.
    expect(at(document, 'components', 'schemas', 'ReleaseAddBody')).toMatchObject({
      required: ['version'],
      additionalProperties: false,
    });
    expect(at(document, 'components', 'schemas', 'Trigger', 'properties', 'kind')).toEqual({
      type: 'string',
      enum: ['user', 'webhook', 'watcher'],
    });
    const events = at(
      document,
      'paths',
      '/v1/events',
      'get',
      'responses',
      '200',
      'content',
      'text/event-stream',
    );
    expect(at(events, 'x-ferry-event-data')).toEqual({ $ref: '#/components/schemas/EventStreamMessage' });
  });
});
