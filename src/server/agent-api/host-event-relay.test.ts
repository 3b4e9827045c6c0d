import { describe, expect, it } from 'vitest';
import type { EventInput } from '../../events/publisher.js';
import { silentLogger } from '../../lib/logger.js';
import type { HostEvent, HostReport } from '../../protocol/report.js';
import { HostEventRelay } from './host-event-relay.js';

const started = (seq: number, instance: string): Extract<HostEvent, { kind: 'instance' }> => ({
  seq,
  at: seq,
  app: 'web',
  env: 'production',
  kind: 'instance',
  instance,
  version: '1.0.0',
  state: 'started',
  pid: 100 + seq,
  restarts: 0,
  detail: null,
});

const report = (host: string, journal: string, items: HostEvent[]): HostReport => ({
  host,
  agentVersion: 'test',
  revision: 1,
  at: 0,
  labels: {},
  apps: [],
  events: { journal, dropped: 0, items },
});

function relayWith(
  hostName: (host: string) => string | null | Promise<string | null>,
  mayReport: (app: string, env: string) => boolean = () => true,
) {
  const published: EventInput[] = [];
  const relay = new HostEventRelay({
    exchange: { onReport: () => () => undefined },
    events: { publish: (event) => published.push(event) },
    store: {
      listDeployments: () => Promise.resolve([]),
      appendEvent: () => Promise.reject(new Error('none')),
    },
    logger: silentLogger(),
    now: () => 0,
    hostOf: (host) => {
      const name = hostName(host);
      return name instanceof Promise ? name.then((n) => ({ name: n, mayReport })) : { name, mayReport };
    },
  });
  return {
    relay,
    published,
    instances: () => published.map((e) => (e.kind === 'instance' ? e.instance : e.kind)),
  };
}

describe('HostEventRelay: the hosts’ journals on the server’s event stream', () => {
  it('publishes each event once, though reports carry it again until acknowledged; a new journal starts afresh', () => {
    const { relay, published, instances } = relayWith(() => null);
    relay.receive(report('local', 'j1', [started(1, 'a'), started(2, 'b')]));
    relay.receive(report('local', 'j1', [started(1, 'a'), started(2, 'b'), started(3, 'c')]));
    relay.receive(report('local', 'j1', [started(3, 'c')]));
    expect(instances()).toEqual(['a', 'b', 'c']);
    // The server's own host: its events name no host, and go out as the report comes in.
    expect(published[0]).not.toHaveProperty('host');
    // The agent started again: its sequence starts again too.
    relay.receive(report('local', 'j2', [started(1, 'd')]));
    expect(instances()).toEqual(['a', 'b', 'c', 'd']);
  });

  it('names an enrolled host, and keeps each host’s events in their order while its name is read', async () => {
    let release: (name: string) => void = () => undefined;
    const named = new Promise<string>((resolve) => (release = resolve));
    const { relay, published, instances } = relayWith((host) => (host === 'h1' ? named : null));
    relay.receive(report('h1', 'j', [started(1, 'a')]));
    relay.receive(report('h1', 'j', [started(1, 'a'), started(2, 'b')]));
    relay.receive(report('local', 'k', [started(1, 'x')]));
    expect(instances()).toEqual(['x']);
    release('web-1');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(instances()).toEqual(['x', 'a', 'b']);
    expect(published.slice(1)).toEqual([
      expect.objectContaining({ host: 'web-1', instance: 'a' }),
      expect.objectContaining({ host: 'web-1', instance: 'b' }),
    ]);
  });

  it("drops a host's events of an environment that does not select it", () => {
    const { relay, instances } = relayWith(
      () => 'web-1',
      (_app, env) => env === 'production',
    );
    const elsewhere: HostEvent = { ...started(2, 'b'), env: 'staging' };
    relay.receive(report('h1', 'j', [started(1, 'a'), elsewhere]));
    expect(instances()).toEqual(['a']);
  });
});
