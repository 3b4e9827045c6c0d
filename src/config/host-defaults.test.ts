import { describe, expect, it } from 'vitest';
import { defaultHostSettings } from './host-defaults.js';
import { parseConfig } from './load.js';

describe('defaultHostSettings', () => {
  it("is what a ferry.yaml without router and artifacts compiles to, for the agent's data directory", () => {
    const home = '/var/lib/ferry-agent';
    const config = parseConfig('{}', { configPath: null, env: { FERRY_HOME: home } });
    expect(defaultHostSettings(home)).toEqual({ router: config.router, artifacts: config.artifacts });
    expect(defaultHostSettings(home).artifacts.cacheDir).toBe('/var/lib/ferry-agent/cache/artifacts');
  });
});
