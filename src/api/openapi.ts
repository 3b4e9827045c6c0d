import { z } from 'zod';
import { API_ROUTES, type ApiRoute, type RouteAnswer } from './routes.js';
import { errorResponseSchema } from './wire/responses.js';

type JsonSchema = Record<string, unknown>;

/** The schemas of the document, by id; a schema with an id is described once and referenced. */
class Components {
  readonly schemas: Record<string, JsonSchema> = {};

  /** The JSON Schema of `schema` as a request (`input`) or an answer (`output`) sees it. */
  describe(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const generated = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
    const { $defs, $schema: _dialect, ...root } = generated;
    for (const [id, definition] of Object.entries(($defs ?? {}) as Record<string, JsonSchema>))
      this.add(id, rewriteRefs(definition) as JsonSchema);
    return rewriteRefs(root) as JsonSchema;
  }

  private add(id: string, definition: JsonSchema): void {
    const known = this.schemas[id];
    // One id, one shape: a schema described differently as a request and as an answer (defaults
    // make fields required in answers) would need two ids.
    if (known !== undefined && JSON.stringify(known) !== JSON.stringify(definition))
      throw new Error(`schema ${id} has two different descriptions; give its request form its own id`);
    this.schemas[id] = definition;
  }
}

/** z.toJSONSchema refers to #/$defs/X; the document keeps them under #/components/schemas/X. */
function rewriteRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    out[key] =
      key === '$ref' && typeof child === 'string'
        ? child.replace(/^#\/\$defs\//, '#/components/schemas/')
        : rewriteRefs(child);
  }
  return out;
}

/** `/v1/apps/:app/history` -> `/v1/apps/{app}/history`. */
function openApiPath(url: string): string {
  return url.replace(/:([A-Za-z_]+)/g, '{$1}');
}

/** A params or query schema as OpenAPI parameters, one per property. */
function parameters(components: Components, schema: z.ZodType | undefined, where: 'path' | 'query') {
  if (schema === undefined) return [];
  const described = components.describe(schema, 'input');
  const properties = (described.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((described.required ?? []) as string[]);
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || required.has(name),
    schema: property,
  }));
}

function content(components: Components, answer: RouteAnswer): Record<string, unknown> {
  if ('text' in answer) {
    const mediaType = answer.text;
    return { [mediaType]: { schema: { type: mediaType.includes('json') ? 'object' : 'string' } } };
  }
  const media: Record<string, unknown> = {};
  if (answer.json !== undefined)
    media['application/json'] = { schema: components.describe(answer.json, 'output') };
  if ('events' in answer) {
    // OpenAPI 3.1 has no way to describe an event stream's items: the schema of each event's
    // data goes in an extension (`data:` lines are JSON; `id:` as the route says).
    media['text/event-stream'] = {
      schema: { type: 'string' },
      'x-ferry-event-data': components.describe(answer.events, 'output'),
    };
  }
  return media;
}

function operation(components: Components, operationId: string, route: ApiRoute, errorRef: JsonSchema) {
  const responses: Record<string, unknown> = {};
  for (const [status, answer] of Object.entries(route.answers))
    responses[status] = { description: answer.description, content: content(components, answer) };
  responses.default = {
    description: 'An error of the catalog (docs/errors.md), with the status it maps to.',
    content: { 'application/json': { schema: errorRef } },
  };
  return {
    operationId,
    summary: route.summary,
    ...(route.token ? {} : { security: [] }),
    parameters: [
      ...parameters(components, route.params, 'path'),
      ...parameters(components, route.query, 'query'),
    ],
    ...(route.body !== undefined
      ? {
          requestBody: {
            // A body that may be left out (pause, resume...: every field optional) is not required.
            required: !route.body.safeParse(undefined).success,
            content: { 'application/json': { schema: components.describe(route.body, 'input') } },
          },
        }
      : {}),
    responses,
  };
}

let cached: { version: string; document: JsonSchema } | undefined;

/**
 * The API's OpenAPI 3.1 document, generated from the route table and the zod schemas that validate
 * the requests and describe the answers. Built once per version.
 */
export function openApiDocument(version: string): JsonSchema {
  if (cached?.version === version) return cached.document;
  const components = new Components();
  const errorRef = components.describe(errorResponseSchema, 'output');
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [operationId, route] of Object.entries(API_ROUTES) as Array<[string, ApiRoute]>) {
    const path = openApiPath(route.url);
    (paths[path] ??= {})[route.method.toLowerCase()] = operation(components, operationId, route, errorRef);
  }
  const document: JsonSchema = {
    openapi: '3.1.0',
    info: {
      title: 'Ferry API',
      version,
      description:
        'The HTTP API of the Ferry daemon. Every route but /healthz needs `Authorization: Bearer <token>` (the token is in <data dir>/api-token). See docs/api.md.',
    },
    jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
    security: [{ token: [] }],
    paths,
    components: {
      schemas: components.schemas,
      securitySchemes: { token: { type: 'http', scheme: 'bearer' } },
    },
  };
  cached = { version, document };
  return document;
}
