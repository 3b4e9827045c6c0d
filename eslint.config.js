// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

/**
 * What src/cli may import, statically, besides its own files: the API's wire types and the
 * discovery of the local daemon (daemon.json, api-token), errors, src/lib (but the daemon's
 * logger), the light parts of src/config that find a daemon from a ferry.yaml, and the flag
 * parsers of `ferry install` (commander calls them while parsing).
 */
const CLI_STATIC =
  '(api/(types|discovery)|errors/[\\w-]+|lib/(?!logger\\.)[\\w-]+|config/(config-file|home|listen-address|traffic-percent)|install/(flags|event))\\.js$';

/**
 * Local code a command runs itself, loaded with import() by that command only, never on the path
 * of the commands that talk to a daemon:
 * - daemon/up: `ferry up` runs the daemon in its own process;
 * - daemon/down: `ferry down` stops local processes (the daemon may be gone);
 * - agent/process/run-agent: `ferry agent` runs a host's agent in its own process;
 * - install/run: `ferry install` runs a stretcher manifest here, without a daemon;
 * - config/load: `ferry config check` validates a whole file with the schema (and `ferry init` what
 *   it writes);
 * - config/daemon-settings: data_dir and api of a ferry.yaml (the YAML parser), read only when a
 *   command needs them to find its daemon.
 */
const CLI_LAZY = '(daemon/(up|down)|agent/process/run-agent|install/run|config/(load|daemon-settings))\\.js$';

/** The CLI's import fence for files `up` levels below src/ (up: '../' or '../../'). */
function cliFence(files, up) {
  const out = up.replaceAll('.', '\\.');
  const outJs = up.replaceAll('.', '\\.').replaceAll('/', '\\/');
  return [
    {
      files: [files],
      ignores: ['**/*.test.ts'],
      rules: {
        '@typescript-eslint/no-restricted-imports': [
          'error',
          {
            patterns: [
              {
                regex: `^${out}(?!${CLI_STATIC})`,
                allowTypeImports: true,
                message:
                  'the CLI talks to the daemon through the API: it imports the API client and wire types, src/lib, src/errors and the light parts of src/config (see CLI_STATIC in eslint.config.js).',
              },
              {
                regex: '^(?!node:|commander$|\\.)',
                allowTypeImports: true,
                message: 'the CLI loads no package but commander: each costs every command its start-up.',
              },
            ],
          },
        ],
        'no-restricted-syntax': [
          'error',
          {
            selector: `ImportExpression[source.value=/^${outJs}(?!${CLI_LAZY.replaceAll('/', '\\/')})/]`,
            message:
              'a command loads local code only through a narrow entry listed in CLI_LAZY (eslint.config.js), with the reason.',
          },
          {
            selector: 'ImportExpression[source.value=/^(?!node:|\\.)/]',
            message: 'the CLI loads no package but commander.',
          },
        ],
      },
    },
  ];
}

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', 'examples/**/dist/', 'coverage/', 'bench/results/'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { project: './tsconfig.lint.json', tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/restrict-template-expressions': [
        'error',
        { allowNumber: true, allowBoolean: true },
      ],
    },
  },
  {
    // The daemon side (and everything but the CLI) never depends on the CLI.
    files: ['src/**/*.ts'],
    ignores: ['src/cli/**', '**/*.test.ts', '**/test-support/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(\\.\\./)+cli/', message: 'only the CLI imports src/cli.' }] },
      ],
      'no-restricted-syntax': [
        'error',
        {
          selector: 'ImportExpression[source.value=/^(\\.\\.\\/)+cli\\//]',
          message: 'only the CLI imports src/cli.',
        },
      ],
    },
  },
  {
    // An agent reaches its server over the agent protocol only, never through the server's code.
    files: ['src/agent/**/*.ts'],
    ignores: ['**/*.test.ts', '**/test-support/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^(\\.\\./)+cli/', message: 'only the CLI imports src/cli.' },
            { regex: '^(\\.\\./)+server/', message: 'agent code does not import src/server.' },
          ],
        },
      ],
    },
  },
  {
    // The engine is pure: no I/O, no timers, no clocks. Enforced here rather than by hope.
    files: ['src/engine/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'net', 'http', 'child_process'],
              message: 'src/engine is pure: no I/O.',
            },
            {
              // lib/duration.js is pure: the engine's events say "5m", not "300000ms". releases/release.js
              // is plain types and constants: a deployment names its trigger.
              group: ['../*/**', '!../engine/**', '!../lib/duration.js', '!../releases/release.js'],
              message:
                'src/engine imports only from src/engine, src/errors, lib/duration and releases/release (types).',
            },
          ],
        },
      ],
      'no-restricted-globals': ['error', 'setTimeout', 'setInterval', 'Date', 'fetch', 'process'],
    },
  },
  {
    // The fleet rollout engine is pure too: no I/O, no timers, no clocks, no randomness.
    files: ['src/rollout/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['node:*', 'fs', 'net', 'http', 'child_process', 'crypto'],
              message: 'src/rollout is pure: no I/O.',
            },
            {
              // releases/release.js (plain types) and trigger.js (one pure function): a rollout names its trigger.
              group: [
                '../*/**',
                '!../rollout/**',
                '!../errors/**',
                '!../lib/duration.js',
                '!../releases/release.js',
                '!../releases/trigger.js',
              ],
              message:
                'src/rollout imports only from src/rollout, src/errors, lib/duration, releases/release and releases/trigger.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        'setTimeout',
        'setInterval',
        'setImmediate',
        'Date',
        'fetch',
        'process',
        'performance',
        'crypto',
      ],
      'no-restricted-properties': [
        'error',
        { object: 'Math', property: 'random', message: 'src/rollout is deterministic: no randomness.' },
      ],
    },
  },
  ...cliFence('src/cli/*.ts', '../'),
  ...cliFence('src/cli/*/*.ts', '../../'),
  {
    // src/cli has two levels (commands/, actions/): a deeper file would escape the fence above.
    files: ['src/cli/*/*/**/*.ts'],
    rules: { 'no-restricted-syntax': ['error', { selector: 'Program', message: 'src/cli has two levels.' }] },
  },
  {
    files: ['**/*.js', '**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: globals.node },
  },
  {
    files: ['**/*.test.ts', 'test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
    },
  },
);
