import { rereadRoutes } from '../aws/elbv2.js'
import type { Config } from '../config/inputs.js'
import { pairWeights } from '../plan/forward-action.js'
import type { Route } from '../aws/elbv2.js'
import { lockTtlMs } from '../plan/lock-lease.js'
import { describeWeights, type TrafficState } from '../plan/traffic-state.js'
import type { RunContext } from '../runtime/context.js'
import { DeployError } from '../config/errors.js'
import type { Lock } from './fleet-records.js'
import { acquireLock, lockHolderArn, releaseLock } from './lock.js'

/** The routes and their weights as the run read them when it decided what to do. */
export interface ReadState {
  routes: Route[]
  traffic: TrafficState
  /** The pair's lock as read then, when held. */
  lock?: Lock
}

/**
 * Takes the pair's lock for a run that will move traffic, and returns the ARN that carries it.
 * Everything the run decided so far was decided before the lock: a run that finished meanwhile may
 * have made the idle fleet live, and going on would then hit the fleet serving the users. So the
 * weights are read again once this run's lock is written, and must not have moved.
 */
export async function claimThePair(
  ctx: RunContext,
  config: Pick<Config, 'timeoutMs' | 'commandTimeoutMs' | 'healthTimeoutMs'>,
  found: ReadState,
  operation: string
): Promise<string> {
  const lockArn = lockHolderArn(found.traffic.pair)
  let changed: string | undefined
  await acquireLock(ctx.clients.elb, lockArn, ctx.run, lockTtlMs(config), ctx.clock, ctx.log, {
    known: found.lock ?? null,
    whileSettling: async () => {
      changed = await routesChangedSince(ctx, found)
    }
  })
  if (changed) {
    await releaseLock(ctx.clients.elb, lockArn, ctx.run)
    throw new DeployError(
      `Traffic changed while this run was starting (${changed}); nothing was changed: run ${operation} again`
    )
  }
  return lockArn
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
