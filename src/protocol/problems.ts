import type { z } from 'zod';

const MAX_PROBLEMS = 10;

/**
 * Why a message does not match its schema, one line per problem, each with its path under `root`
 * (`report.apps.0.instances.2.pid: Invalid input: expected number, received string`). Bounded:
 * a message may be broken everywhere. Values are never quoted (a message may hold secrets).
 */
export function messageProblems(error: z.ZodError, root: string): string[] {
  const problems = error.issues
    .slice(0, MAX_PROBLEMS)
    .map((issue) => `${[root, ...issue.path.map(String)].join('.')}: ${issue.message}`);
  if (error.issues.length > MAX_PROBLEMS) problems.push(`and ${error.issues.length - MAX_PROBLEMS} more`);
  return problems;
}
