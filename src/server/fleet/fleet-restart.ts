import { randomBytes } from 'node:crypto';
import type { FleetRestartView } from '../../api/wire/fleet-restart.js';
import type { AppConfig } from '../../config/types.js';
import { FerryError, messageOf } from '../../errors/ferry-error.js';
import { sleep, type Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/logger.js';
import type { AppReport } from '../../protocol/report.js';
import type { DeployLocks } from '../../runtime/deploy-locks.js';
import type { ExchangeHostLink } from '../../runtime/desired/exchange-link.js';
import { lockedError } from '../locks/lock-errors.js';
import type { HeldSlot, RestartSlots } from './restart-slots.js';

export interface FleetRestartDeps {
  readonly link: Pick<ExchangeHostLink, 'edit' | 'until' | 'lastReport'>;
  readonly slots: Pick<RestartSlots, 'take'>;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The enrolled hosts (ids, not revoked) the environment selects, in a stable order. */
  readonly hostsOf: (env: string) => Promise<readonly string[]>;
  readonly appConfig: (app: string) => AppConfig | undefined;
  readonly locks?: Pick<DeployLocks, 'holding'>;
  /** How often a host waiting for a slot asks again (ms). */
  readonly slotPollMs?: number;
  /** How long a host waits for a slot before the restart fails (ms). */
  readonly slotWaitMs?: number;
}

const DEFAULT_SLOT_POLL_MS = 500;
const DEFAULT_SLOT_WAIT_MS = 30 * 60_000;

/**
 * `ferry restart APP --env E` on an environment of enrolled hosts: every host that runs the app
 * restarts it, at most `rollout.restart_at_once` hosts at a time. A host restarts only while it
 * holds a restart slot (a key on a lease in the store, so K holds across servers and a dead server's
 * slots free themselves); it is asked through its desired state (a restart id on each release that
 * runs) and is done when its report says that restart is done (every old instance replaced, the
 * new ones healthy: the app's health check is the readiness). A host that does not get there within
 * its deadline fails the restart: no further host starts, and the failure names the host and what
 * its report shows. Restarts are kept in memory: one the server loses with itself ends there (its
 * slots expire; hosts finish the restart they were asked for by themselves).
 */
export class FleetRestart {
  private readonly restarts = new Map<string, FleetRestartView>();
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly deps: FleetRestartDeps) {}

  /** Starts the restart and answers at once with its view (FERRY_E_LOCKED, ..._IN_PROGRESS, ...). */
  async start(app: string, env: string, actor: string): Promise<FleetRestartView> {
    const config = this.deps.appConfig(app);
    if (config === undefined)
      throw new FerryError('FERRY_E_APP_UNKNOWN', `no app named "${app}" is configured`, { got: app });
    const lock = await this.deps.locks?.holding(app, env);
    if (lock) throw lockedError(lock, `cannot restart ${app} in ${env}`);
    const key = `${app}\u0000${env}`;
    const previous = this.restarts.get(key);
    if (previous?.state === 'running')
      throw new FerryError(
        'FERRY_E_DEPLOYMENT_IN_PROGRESS',
        `${app} in ${env} is restarting already (${previous.id}, by ${previous.actor}): wait for it to end (ferry status ${app} --env ${env})`,
        { where: `${app}/${env}` },
      );
    const hosts = (await this.deps.hostsOf(env)).filter((host) =>
      runsApp(this.deps.link.lastReport(host, app, env)),
    );
    if (hosts.length === 0)
      throw new FerryError(
        'FERRY_E_ILLEGAL_STATE',
        `no host of ${env} runs ${app}; nothing to restart (deploy a release first: ferry deploy ${app} VERSION --env ${env})`,
        { app, env },
      );
    const now = this.deps.clock.now();
    const view: FleetRestartView = {
      id: `restart-${now.toString(36)}-${randomBytes(3).toString('hex')}`,
      app,
      env,
      actor,
      state: 'running',
      atOnce: config.rollout.restartAtOnce,
      startedAt: now,
      finishedAt: null,
      hosts: hosts.map((host) => ({ host, state: 'waiting', startedAt: null, finishedAt: null })),
      failure: null,
    };
    this.restarts.set(key, view);
    const run = this.run(view, config).finally(() => this.running.delete(key));
    this.running.set(key, run);
    return snapshot(view);
  }

  /** The app's last restart in the environment (running or ended), or null. */
  view(app: string, env: string): FleetRestartView | null {
    const view = this.restarts.get(`${app}\u0000${env}`);
    return view === undefined ? null : snapshot(view);
  }

  /** Resolves once the app's restart in the environment (if any) has ended. */
  async settled(app: string, env: string): Promise<void> {
    await this.running.get(`${app}\u0000${env}`);
  }

  /** Waits for the restarts under way (the server stops). */
  async close(): Promise<void> {
    await Promise.all(this.running.values());
  }

  private async run(view: FleetRestartView, config: AppConfig): Promise<void> {
    const queue = [...view.hosts];
    const worker = async () => {
      for (let next = queue.shift(); next !== undefined && view.failure === null; next = queue.shift())
        await this.restartHost(view, config, next);
    };
    await Promise.all(Array.from({ length: Math.min(view.atOnce, queue.length) }, worker));
    view.state = view.failure === null ? 'succeeded' : 'failed';
    view.finishedAt = this.deps.clock.now();
    this.deps.logger.info(
      { app: view.app, env: view.env, restart: view.id, state: view.state },
      'fleet restart ended',
    );
  }

  private async restartHost(
    view: FleetRestartView,
    config: AppConfig,
    entry: FleetRestartView['hosts'][number],
  ): Promise<void> {
    const { app, env } = view;
    // Each instance gets the health deadline to turn healthy, and each old one its stop grace.
    const perInstanceMs = config.health.deadlineMs + config.stopGraceMs;
    const instances = Object.hasOwn(config.environments, env) ? config.environments[env]!.instances : 1;
    const deadlineMs = Math.max(1, instances) * perInstanceMs;
    let slot: HeldSlot | null = null;
    try {
      slot = await this.takeSlot(view, entry.host, 2 * perInstanceMs);
      if (view.failure !== null) return;
      entry.state = 'restarting';
      entry.startedAt = this.deps.clock.now();
      let versions: string[] = [];
      const revision = await this.deps.link.edit(entry.host, app, env, (doc) => {
        versions = doc.releases.filter((r) => r.instances > 0).map((r) => r.version);
        return {
          ...doc,
          releases: doc.releases.map((r) => (r.instances > 0 ? { ...r, restart: view.id } : r)),
        };
      });
      await this.deps.link.until(entry.host, app, env, {
        revision,
        what: `restart ${view.id} done`,
        timeoutMs: deadlineMs,
        accept: (report) =>
          versions.every((v) => report.releases.find((r) => r.version === v)?.restarted === view.id),
      });
      entry.state = 'restarted';
      // Done: the id leaves the desired state, so an agent restarted later does not restart again.
      await this.deps.link
        .edit(entry.host, app, env, (doc) => ({
          ...doc,
          releases: doc.releases.map((r) => {
            if (r.restart !== view.id) return r;
            const { restart: _done, ...rest } = r;
            return rest;
          }),
        }))
        .catch((error: unknown) =>
          this.deps.logger.warn(
            { host: entry.host, err: messageOf(error) },
            'could not clear a finished restart',
          ),
        );
    } catch (error) {
      entry.state = 'failed';
      const evidence = evidenceOf(this.deps.link.lastReport(entry.host, app, env));
      view.failure ??= {
        host: entry.host,
        code: error instanceof FerryError ? error.code : 'FERRY_E_INTERNAL',
        message: `${messageOf(error)}${evidence === '' ? '' : `; ${evidence}`}`,
      };
      this.deps.logger.warn(
        { app, env, host: entry.host, err: messageOf(error) },
        'a host failed its restart',
      );
    } finally {
      entry.finishedAt = this.deps.clock.now();
      await slot
        ?.release()
        .catch((error: unknown) =>
          this.deps.logger.warn(
            { err: messageOf(error) },
            'a restart slot could not be released (it expires)',
          ),
        );
    }
  }

  /** A free slot for the host, asked again every slotPollMs up to slotWaitMs. */
  private async takeSlot(view: FleetRestartView, host: string, ttlMs: number): Promise<HeldSlot | null> {
    const waitMs = this.deps.slotWaitMs ?? DEFAULT_SLOT_WAIT_MS;
    const until = this.deps.clock.now() + waitMs;
    for (;;) {
      const slot = await this.deps.slots.take(view.app, view.env, view.atOnce, {
        owner: host,
        reason: `ferry restart by ${view.actor} (${view.id})`,
        ttlMs,
      });
      if (slot !== null || view.failure !== null) return slot;
      if (this.deps.clock.now() >= until)
        throw new FerryError(
          'FERRY_E_HOST_TIMEOUT',
          `host ${host}: no restart slot of ${view.app} in ${view.env} came free within ${waitMs}ms (another restart holds them)`,
          { where: host },
        );
      await sleep(this.deps.clock, this.deps.slotPollMs ?? DEFAULT_SLOT_POLL_MS);
    }
  }
}

/** The host's report shows instances of the app (not only ones leaving). */
function runsApp(report: AppReport | undefined): boolean {
  return report?.instances.some((i) => i.state !== 'retiring') === true;
}

/** What the host's report shows of its instances that are not healthy: a failure's evidence. */
function evidenceOf(report: AppReport | undefined): string {
  if (report === undefined) return 'no report from the host';
  const sick = report.instances.filter((i) => i.state !== 'retiring' && i.health !== 'healthy');
  return sick
    .map((i) => {
      const detail = i.evidence?.health ?? i.evidence?.logTail.at(-1) ?? i.lastExit ?? '';
      return `${i.id} is ${i.health}${detail === '' ? '' : ` (${detail})`}`;
    })
    .join('; ');
}

function snapshot(view: FleetRestartView): FleetRestartView {
  return { ...view, hosts: view.hosts.map((h) => ({ ...h })), failure: view.failure && { ...view.failure } };
}
