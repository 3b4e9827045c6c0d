import type { ExternalTargetsControl } from '../../api/control-plane.js';
import type {
  TargetsCommandBody,
  TargetsDeployBody,
  TargetsListResponse,
  TargetsReportBody,
  TargetsReportResponse,
  TargetsRolloutResponse,
} from '../../api/types.js';
import { FerryError } from '../../errors/ferry-error.js';
import { systemClock, type Clock } from '../../lib/clock.js';
import { labelsOf } from '../../lib/labels.js';
import type { Logger } from '../../lib/logger.js';
import { DEFAULT_ROLLOUT_OPTIONS, type TargetReport } from '../../rollout/index.js';
import type { KvStore } from '../../store/kv/kv.js';
import type { ControllerAsker } from '../rollouts/controller-client.js';
import { KvReleaseVerdicts } from '../rollouts/kv-verdicts.js';
import type { TargetDriver } from '../rollouts/ports.js';
import { RecentDecisions } from '../rollouts/recent-decisions.js';
import type { RolloutRun } from '../rollouts/rollout-run.js';
import { RolloutRuns } from '../rollouts/rollout-runs.js';
import { applyOptions } from './target-options.js';
import { assignedTo, rolloutOf, summaryOf } from '../rollouts/rollout-view.js';

/** The first segment of these rollouts' keys: `/rollouts/targets/<namespace>/<entity>`. */
export const EXTERNAL_TARGETS_KIND = 'targets';

/** How often the rollouts tick by default: deadlines and pauses are judged to the second. */
export const DEFAULT_TARGETS_TICK_MS = 1_000;

/**
 * Targets outside Ferry are told their release in the answer to their next report: the assignment
 * is the rollout's state itself, persisted before the answer goes out.
 */
const REPORTED_BACK: TargetDriver = { assign: () => Promise.resolve() };

export interface ExternalTargetsDeps {
  readonly kv: KvStore;
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly tickMs?: number;
  /** Asks a controller (default: over HTTP). */
  readonly ask?: ControllerAsker;
}

/**
 * Rollouts over targets Ferry does not run itself, in nixmade/orchestrator's model: per namespace
 * and entity, a client reports its targets ({name, version, isError, message, labels}) and is
 * answered the release each should run, decided by the same engine and runtime as Ferry's own
 * hosts: batches, soak and deadline, thresholds, last known good and bad, the return to it.
 */
export class ExternalTargets implements ExternalTargetsControl {
  private readonly runs: RolloutRuns;
  private readonly verdicts: KvReleaseVerdicts;
  private readonly clock: Clock;

  constructor(deps: ExternalTargetsDeps) {
    this.clock = deps.clock ?? systemClock;
    this.verdicts = new KvReleaseVerdicts(deps.kv);
    this.runs = new RolloutRuns({
      kind: EXTERNAL_TARGETS_KIND,
      kv: deps.kv,
      clock: this.clock,
      logger: deps.logger,
      tickMs: deps.tickMs ?? DEFAULT_TARGETS_TICK_MS,
      verdicts: this.verdicts,
      decisions: new RecentDecisions({ clock: this.clock, logger: deps.logger }),
      ...(deps.ask ? { ask: deps.ask } : {}),
      // The engine's words: an entity is what rolls out (its app), in its namespace (its env).
      seed: ([namespace = '', entity = '']) => ({
        app: entity,
        env: namespace,
        options: DEFAULT_ROLLOUT_OPTIONS,
        lkg: null,
      }),
      driver: () => REPORTED_BACK,
    });
  }

  /** Resumes every entity's rollout the store holds. */
  start(): Promise<void> {
    return this.runs.start();
  }

  close(): Promise<void> {
    return this.runs.close();
  }

  async report(namespace: string, entity: string, body: TargetsReportBody): Promise<TargetsReportResponse> {
    const at = this.clock.now();
    const reports = body.targets.map((target): TargetReport => {
      const pairs: [string, string][] = Object.entries(target.labels ?? {});
      if (target.group !== undefined) pairs.push(['group', target.group]);
      return {
        name: target.name,
        at,
        version: target.version ?? null,
        healthy: target.isError !== true,
        ...(target.message !== undefined ? { message: target.message } : {}),
        ...(pairs.length > 0 ? { labels: labelsOf(pairs) } : {}),
        ...(target.failedVersion !== undefined ? { failedVersion: target.failedVersion } : {}),
      };
    });
    const state = await this.runs.open([namespace, entity]).report(reports);
    return {
      targets: assignedTo(
        state,
        body.targets.map((t) => t.name),
      ),
      rollout: summaryOf({ namespace, entity }, state, this.clock.now()),
    };
  }

  async deploy(
    namespace: string,
    entity: string,
    body: TargetsDeployBody,
    actor: string,
  ): Promise<TargetsRolloutResponse> {
    const { options } = body;
    const run = this.runs.open([namespace, entity]);
    await run.deploy({
      version: body.version,
      force: body.force ?? false,
      actor,
      ...(options !== undefined ? { configure: (current) => applyOptions(current, options) } : {}),
    });
    return this.view(namespace, entity, run);
  }

  async command(
    namespace: string,
    entity: string,
    command: TargetsCommandBody['command'],
    actor: string,
  ): Promise<TargetsRolloutResponse> {
    const run = await this.existing(namespace, entity);
    await run.command(command, actor);
    return this.view(namespace, entity, run);
  }

  async rollout(namespace: string, entity: string): Promise<TargetsRolloutResponse> {
    return this.view(namespace, entity, await this.existing(namespace, entity));
  }

  async list(): Promise<TargetsListResponse> {
    const now = this.clock.now();
    const listed = await this.runs.list();
    return {
      rollouts: listed.flatMap(({ key: [namespace, entity], record }) =>
        namespace === undefined || entity === undefined
          ? []
          : [summaryOf({ namespace, entity }, record.state, now)],
      ),
    };
  }

  /** The run of an entity that exists (one of the store's, another server's included). */
  private async existing(namespace: string, entity: string): Promise<RolloutRun> {
    const run = await this.runs.find([namespace, entity]);
    if (run !== null) return run;
    throw new FerryError(
      'FERRY_E_ROLLOUT_UNKNOWN',
      `no rollout of entity ${JSON.stringify(entity)} in namespace ${JSON.stringify(namespace)}: it is created by its first report or deploy`,
      { where: `${namespace}/${entity}`, got: `${namespace}/${entity}` },
    );
  }

  private async view(namespace: string, entity: string, run: RolloutRun): Promise<TargetsRolloutResponse> {
    const record = await run.read();
    if (record === null)
      throw new FerryError('FERRY_E_ROLLOUT_UNKNOWN', `no rollout of ${namespace}/${entity}`, {
        where: `${namespace}/${entity}`,
      });
    const verdicts = await this.verdicts.list(run.storeKey);
    return { rollout: rolloutOf({ namespace, entity }, record, verdicts, this.clock.now()) };
  }
}

/** The external targets of `ferry up` and `ferry server`, on the control plane's store, resumed. */
export async function startExternalTargets(deps: ExternalTargetsDeps): Promise<ExternalTargets> {
  const targets = new ExternalTargets(deps);
  await targets.start();
  return targets;
}
