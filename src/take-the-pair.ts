import type { Config } from './config.js'
import type { RunContext } from './context.js'
import type { Discovery } from './discover.js'
import { DeployError } from './errors.js'
import { pairWeights } from './forward-action.js'
import { readRoutes } from './load-balancer.js'
import { acquireLock, lockHolderArn, releaseLock } from './lock.js'
import { describeWeights } from './traffic-state.js'

/**
 * Takes the pair's lock for a run that will move traffic, and returns the ARN that carries it.
 * Everything the run decided so far was decided before the lock: a run that finished meanwhile may
 * have made the idle fleet live, and going on would then hit the fleet serving the users. So the
 * weights are read again once this run's lock is written, and must not have moved.
 */
export async function takeThePair(ctx: RunContext, config: Pick<Config, 'timeoutMs' | 'commandTimeoutMs' | 'healthTimeoutMs'>, found: Discovery, operation: string): Promise<string> {
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
    throw new DeployError(`Traffic changed while this run was starting (${changed}); nothing was changed: run ${operation} again`)
  }
  return lockArn
}

/** The lock outlives the longest the run may take, so it cannot expire under a live run. */
export function lockTtlMs(config: Pick<Config, 'timeoutMs' | 'commandTimeoutMs' | 'healthTimeoutMs'>): number {
  return Math.max(config.timeoutMs, config.commandTimeoutMs + config.healthTimeoutMs) + 10 * 60_000
}

/** What changed on the routes since `found` was read, or undefined when nothing did. */
export async function routesChangedSince(ctx: RunContext, found: Discovery): Promise<string | undefined> {
  const now = await readRoutes(ctx.clients.elb, found.routes.filter((r) => r.kind === 'listener').map((r) => r.arn), found.routes.filter((r) => r.kind === 'rule').map((r) => r.arn))
  for (const { route, weights } of found.traffic.routes) {
    const current = now.find((r) => r.arn === route.arn)
    const after = current ? pairWeights(current, found.traffic.pair) : {}
    if (found.traffic.pair.some((arn) => after[arn] !== weights[arn])) {
      return `${describeWeights(weights)} became ${describeWeights(after)}`
    }
  }
  return undefined
}
