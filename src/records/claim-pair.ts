import { rereadRoutes, type Route } from '../aws/elbv2.js'
import { DeployError } from '../config/errors.js'
import type { Config } from '../config/inputs.js'
import { pairWeights } from '../plan/forward-action.js'
import { describeWeights, type TrafficState } from '../plan/traffic-state.js'
import type { RunContext } from '../runtime/context.js'
import { lockParameterName } from './lock-claim.js'
import { type PairLock, takeLock } from './parameter-lock.js'

/** The routes and their weights as the run read them when it decided what to do. */
export interface ReadState {
  routes: Route[]
  traffic: TrafficState
}

/** Traffic moved between the run's first look and its lock: what it decided may no longer hold. */
export class PlanAgainError extends DeployError {
  override name = 'PlanAgainError'
}

/**
 * Takes the pair's lock for a run that will change it (records/parameter-lock.ts), waiting up to
 * lock-wait for another run's. Everything the run decided so far was decided before the lock: a
 * run that finished meanwhile may have made the idle fleet live, and going on would then hit the
 * fleet serving the users. So the weights are read again once the lock is this run's; if they
 * moved, the lock is given back and the run plans again from what AWS shows now. A forced take-over
 * (a rollback) decides again under the lock itself.
 */
export async function claimThePair(
  ctx: RunContext,
  config: Pick<Config, 'parameterPrefix' | 'lockWaitMs'>,
  found: ReadState,
  operation: string,
  force: boolean
): Promise<PairLock> {
  const lock = await takeLock({
    ssm: ctx.clients.ssm,
    name: lockParameterName(config.parameterPrefix, found.traffic.pair),
    run: ctx.run,
    operation,
    clock: ctx.clock,
    log: ctx.log,
    signal: ctx.signal,
    waitMs: force ? 0 : config.lockWaitMs,
    force
  })
  if (force) return lock
  let changed: string | undefined
  try {
    changed = await routesChangedSince(ctx, found)
  } catch (error) {
    await lock.release().catch(() => undefined)
    throw error
  }
  if (changed) {
    await lock.release().catch(() => undefined)
    throw new PlanAgainError(`Traffic changed while this run was starting (${changed})`)
  }
  return lock
}

/** What changed on the routes since `found` was read, or undefined when nothing did. */
export async function routesChangedSince(ctx: RunContext, found: ReadState): Promise<string | undefined> {
  const now = await rereadRoutes(ctx.clients.elb, found.routes)
  for (const { route, weights } of found.traffic.routes) {
    const current = now.find((r) => r.arn === route.arn)
    const after = current ? pairWeights(current, found.traffic.pair) : {}
    if (found.traffic.pair.some((arn) => after[arn] !== weights[arn])) {
      return `${describeWeights(weights)} became ${describeWeights(after)}`
    }
  }
  return undefined
}
