import type { AwsClients } from '../aws/clients.js'
import type { Clock } from './clock.js'
import type { Route } from '../aws/elbv2.js'
import type { RunIdentity } from './run-identity.js'
import type { Log } from './log.js'
import type { Progress } from './progress.js'

/** What an operation needs from the outside world; all of it replaceable in tests. */
export interface RunContext {
  clients: AwsClients
  clock: Clock
  log: Log
  run: RunIdentity
  /** Aborts when the runner cancels the step (SIGINT/SIGTERM). */
  signal: AbortSignal
  saveProgress(progress: Progress): void
  /** The routes as read at the very start of the run (see main.ts), when already requested. */
  routesAtStart?: Promise<Route[]>
}
