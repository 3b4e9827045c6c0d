import type { FleetRestartView } from '../api/types.js';

/** "hello (production) restart by alice: running, 2 at once: 2 restarted, 2 restarting (h3, h4), 1 waiting" */
export function renderFleetRestartLine(restart: FleetRestartView): string {
  const of = (state: FleetRestartView['hosts'][number]['state']) =>
    restart.hosts.filter((h) => h.state === state).map((h) => h.host);
  const restarting = of('restarting');
  const parts = [
    `${of('restarted').length} restarted`,
    `${restarting.length} restarting${restarting.length > 0 ? ` (${restarting.join(', ')})` : ''}`,
    `${of('waiting').length} waiting`,
    ...(of('failed').length > 0 ? [`${of('failed').length} failed`] : []),
  ];
  return `${restart.app} (${restart.env}) restart ${restart.id} by ${restart.actor}: ${restart.state}, ${restart.atOnce} at once: ${parts.join(', ')}`;
}

/** The restart's line, then why it failed (the host and its report's evidence). */
export function renderFleetRestart(restart: FleetRestartView): string {
  const line = renderFleetRestartLine(restart);
  const { failure } = restart;
  return failure === null
    ? line
    : `${line}\n  failed on host ${failure.host}: ${failure.message} (${failure.code})`;
}
