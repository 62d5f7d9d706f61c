import type { AwsClients } from '../aws/clients.js'
import type { Route } from '../aws/elbv2.js'
import type { Pair, Weights } from '../plan/forward-action.js'
import { describeWeights } from '../plan/traffic-state.js'
import type { Log } from '../runtime/log.js'
import { type Guard, setWeights } from './shift.js'

export interface Restore {
  pair: Pair
  restore: Record<string, Weights>
  /** Either group has target-level stickiness: group stickiness then cannot be turned off. */
  targetSticky: boolean
  /** What this run left on each route; a route found otherwise was someone else's change. */
  expected?: Record<string, Weights>
  guard: Guard
}

/**
 * Writes the given weights on every route and reads them back. A restore leaves a fleet at weight
 * 0, so target group stickiness is turned off with it (stickiness.ts): on an ALB a stickiness
 * cookie outranks the weights, and all traffic is meant to leave that fleet now.
 */
export async function restoreTraffic(
  ctx: { clients: Pick<AwsClients, 'elb'>; log: Log },
  routes: Route[],
  run: Restore,
  warnings?: string[]
): Promise<Route[]> {
  ctx.log.warning(`Restoring the starting weights on ${routes.length} route${routes.length > 1 ? 's' : ''}`)
  const restored = await setWeights(ctx.clients.elb, routes, {
    pair: run.pair,
    target: run.restore,
    stickiness: { mode: 'keep' },
    targetSticky: run.targetSticky,
    expected: run.expected,
    guard: run.guard,
    log: ctx.log,
    warnings
  })
  ctx.log.info(`Weights restored and verified: ${Object.values(run.restore).map(describeWeights).join('; ')}`)
  return restored
}
