import type { Clock } from '../../lib/clock.js';
import type { Labels } from '../../lib/labels.js';
import type { HostSummary } from '../trust/hosts.js';
import type { Trust } from '../trust/trust.js';
import { matchesLabels } from './host-selection.js';

/** How long the enrolled hosts' labels are reused before they are read again. */
const HOSTS_TTL_MS = 2_000;

/**
 * The enrolled hosts as the fleet reads them: by id for each report (kept for HOSTS_TTL_MS, so a
 * burst of reports reads the store once; read again at once for a host not seen before), and the
 * ones an environment selects, read afresh.
 */
export class EnrolledHosts {
  private known: { readonly at: number; readonly byId: Map<string, HostSummary> } | null = null;
  private reading: Promise<Map<string, HostSummary>> | null = null;

  constructor(
    private readonly trust: Pick<Trust, 'listHosts'>,
    private readonly clock: Clock,
  ) {}

  /** The enrolled host `id` (undefined: not enrolled). */
  async byId(id: string): Promise<HostSummary | undefined> {
    const known = this.known;
    if (known !== null && this.clock.now() - known.at < HOSTS_TTL_MS && known.byId.has(id))
      return known.byId.get(id);
    this.reading ??= this.trust
      .listHosts()
      .then((hosts) => {
        const byId = new Map(hosts.map((h) => [h.id, h]));
        this.known = { at: this.clock.now(), byId };
        return byId;
      })
      .finally(() => (this.reading = null));
    return (await this.reading).get(id);
  }

  /** The ids of the enrolled hosts (not revoked) that `selector` picks, in order. */
  async selected(selector: Labels): Promise<string[]> {
    const hosts = await this.trust.listHosts();
    return hosts
      .filter((h) => !h.revoked && matchesLabels(h.labels, selector))
      .map((h) => h.id)
      .sort();
  }
}
