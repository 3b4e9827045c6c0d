import type { Command } from 'commander';
import { positiveInt } from '../args.js';
import { lazyAction } from '../lazy-action.js';

const releases = () => import('../actions/releases.js');

/** release (add), releases: the releases Ferry knows of, and recording one by hand. */
export function register(program: Command): void {
  const release = program.command('release').description('record a release by hand (ferry release add)');
  release
    .command('add')
    .description(
      "record a release of an app; it is deployed where the app's policies allow (like one a watcher or webhook found)",
    )
    .argument('<app>')
    .argument('<version>')
    .option(
      '--artifact <url>',
      "the artifact's URL or file path (default: the app's artifact.url with {version}); not --url, which names the daemon",
    )
    .option('--checksum <sum>', 'sha256:<hex> of the artifact (with --artifact)')
    .option('--changelog <text>', 'release notes')
    .option('--changelog-file <file>', 'release notes read from a file')
    .option('--env <env>', 'deploy to this environment only (default: each whose policy takes new releases)')
    .option('--no-deploy', 'record it only; deploy it nowhere')
    .option('--json', 'print the API response as JSON')
    .action(lazyAction(async () => (await releases()).addRelease));

  program
    .command('releases')
    .description(
      "an app's releases (newest first): what brought each, its artifact, its status per environment",
    )
    .argument('<app>')
    .option('--limit <n>', 'how many releases', positiveInt('--limit'), 20)
    .option('--json', 'print the API response as JSON')
    .action(lazyAction(async () => (await releases()).listReleases));
}
