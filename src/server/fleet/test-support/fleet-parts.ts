import type { FerryConfig } from '../../../config/types.js';
import { FakeClock } from '../../../lib/clock.js';
import { silentLogger } from '../../../lib/logger.js';
import type { InstanceReport } from '../../../protocol/report.js';
import { ExchangeHostLink } from '../../../runtime/desired/exchange-link.js';
import type { KvStore } from '../../../store/kv/kv.js';
import { openSqliteKvStore } from '../../../store/kv/sqlite-kv.js';
import { openSqliteStore } from '../../../store/sqlite/sqlite-store.js';
import { HostExchange } from '../../agent-api/host-exchange.js';
import { KvDesiredStates } from '../../agent-api/kv-desired-states.js';
import { RecentDecisions } from '../../rollouts/recent-decisions.js';
import { Trust } from '../../trust/trust.js';
import { Fleet } from '../fleet.js';

/** An instance of `version` as a host reports it, running and healthy unless `over` says otherwise. */
export function runningInstance(
  id: string,
  version: string,
  over: Partial<InstanceReport> = {},
): InstanceReport {
  return {
    id,
    version,
    state: 'running',
    health: 'healthy',
    pid: 1,
    startedAt: 0,
    restarts: 0,
    lastExit: null,
    cpuPercent: null,
    rssBytes: null,
    ...over,
  };
}

/**
 * The fleet on its real parts (key-value store, trust, exchange, desired states, the release
 * ledger) with a fake clock; hosts are simulated by the tests' reports. `kv` and `clock` carry one
 * store over to a second fleet (a restarted server). `close` closes what it opened.
 */
export async function fleetOnRealParts(opts: {
  readonly config: FerryConfig;
  readonly kv?: KvStore;
  readonly clock?: FakeClock;
  readonly hostTickMs?: number;
}) {
  const clock = opts.clock ?? new FakeClock(1_000_000);
  const kv = opts.kv ?? (await openSqliteKvStore(':memory:', { clock }));
  const store = openSqliteStore(':memory:');
  const trust = new Trust(kv, clock);
  const exchange = new HostExchange({ desired: new KvDesiredStates(kv), clock });
  const link = new ExchangeHostLink({
    exchange,
    now: () => clock.now(),
    specFor: () => ({ config: {}, digest: 'd' }),
  });
  const fleet = new Fleet({
    config: { current: opts.config },
    kv,
    trust,
    exchange,
    link,
    store,
    decisions: new RecentDecisions({ clock }),
    clock,
    logger: silentLogger(),
    tickMs: 200,
    ...(opts.hostTickMs !== undefined ? { hostTickMs: opts.hostTickMs } : {}),
  });
  const close = async () => {
    await fleet.close();
    exchange.close();
    await store.close();
    if (opts.kv === undefined) await kv.close();
  };
  return { clock, kv, store, trust, exchange, link, fleet, close };
}
