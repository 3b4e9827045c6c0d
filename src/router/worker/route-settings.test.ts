import { describe, expect, it } from 'vitest';
import { resolveRouteSettings } from './route-settings.js';
import type { RouteSpec } from '../types.js';

const spec: RouteSpec = {
  name: 'app',
  listen: { host: '127.0.0.1', port: 8080 },
  backends: [],
  maxConnections: 101,
  maxConnectionsPerClient: 3,
};

describe('route settings', () => {
  it('gives each router worker its share of the connection limits, never less than one', () => {
    expect(resolveRouteSettings(spec)).toMatchObject({ maxConnections: 101, maxConnectionsPerClient: 3 });
    expect(resolveRouteSettings(spec, 2)).toMatchObject({ maxConnections: 51, maxConnectionsPerClient: 2 });
    expect(resolveRouteSettings(spec, 4)).toMatchObject({ maxConnections: 26, maxConnectionsPerClient: 1 });
    expect(resolveRouteSettings({ ...spec, maxConnectionsPerClient: 1 }, 8).maxConnectionsPerClient).toBe(1);
  });
});
