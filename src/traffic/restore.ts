import type { AwsClients } from '../aws/clients.js'
import { type Pair, stickinessEnabled, type Weights } from '../plan/forward-action.js'
import type { Route } from '../aws/elbv2.js'
import { describeWeights } from '../plan/traffic-state.js'
import type { Log } from '../runtime/log.js'
import { setWeights } from './shift.js'

/**
 * Writes the given weights on every route and reads them back. Target group stickiness would keep
 * clients pinned to the fleet being left (on ALB a stickiness cookie outranks the weights), so a
 * restore switches it off, and says so: all traffic is meant to leave that fleet now.
 */
export async function restoreTraffic(
  ctx: { clients: Pick<AwsClients, 'elb'>; log: Log },
  routes: Route[],
  run: { pair: Pair; restore: Record<string, Weights> },
  warnings?: string[]
): Promise<Route[]> {
  ctx.log.warning(`Restoring the starting weights on ${routes.length} route${routes.length > 1 ? 's' : ''}`)
  const sticky = routes.some(stickinessEnabled)
  if (sticky) {
    const message =
      'Target group stickiness was turned off on the restored routes, so that pinned clients leave the failed fleet; turn it back on when you deploy again'
    ctx.log.warning(message)
    warnings?.push(message)
  }
  const restored = await setWeights(
    ctx.clients.elb,
    routes,
    run.pair,
    run.restore,
    sticky ? { mode: 'off' } : { mode: 'keep' },
    ctx.log
  )
  ctx.log.info(`Weights restored and verified: ${Object.values(run.restore).map(describeWeights).join('; ')}`)
  return restored
}
