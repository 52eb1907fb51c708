import { startExample, type RunningServer } from './example.ts'

export type { RunningServer }

/**
 * Starts examples/secured-echo exactly as `pnpm start` does (its start script), on a free port, and resolves once it
 * prints its `listening` line.
 */
export function startSecuredEcho (env: Record<string, string> = {}): Promise<RunningServer> {
  return startExample('secured-echo', env)
}
