import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import { rereadRoutes, writeRouteActions } from '../aws/elbv2.js'
import type { Stickiness } from '../config/inputs.js'
import { describeRoute, pairWeights, type Pair, type Weights, withWeights } from '../plan/forward-action.js'
import type { Route } from '../aws/elbv2.js'
import { describeWeights } from '../plan/traffic-state.js'
import { DeployError } from '../config/errors.js'
import type { Log } from '../runtime/log.js'

const WRITE_ATTEMPTS = 3

/**
 * Sets the pair's weights on every route at once and reads them back. Each write starts from the
 * route as just read, so a change someone made to the rest of the listener is not undone. A
 * read-back that differs is written again; after that it is an error, since traffic is not where
 * the deploy believes it is.
 */
export async function setWeights(
  elb: ElasticLoadBalancingV2Client,
  routes: Route[],
  pair: Pair,
  target: Record<string, Weights>,
  stickiness: Stickiness,
  log: Log
): Promise<Route[]> {
  let current = routes
  for (let attempt = 1; ; attempt++) {
    const pending = current.filter((route) => !sameWeights(pairWeights(route, pair), target[route.arn]))
    await Promise.all(
      pending.map((route) => writeRouteActions(elb, route, withWeights(route, target[route.arn], stickiness)))
    )
    current = await rereadRoutes(elb, routes)
    const wrong = current.filter((route) => !sameWeights(pairWeights(route, pair), target[route.arn]))
    if (wrong.length === 0) return current
    const detail = wrong.map((r) => `${describeRoute(r)} reads ${describeWeights(pairWeights(r, pair))}`).join('; ')
    if (attempt >= WRITE_ATTEMPTS) {
      throw new DeployError(
        `Weights did not stick after ${WRITE_ATTEMPTS} writes: ${detail}; something else is changing the listener, stop it and run rollback`
      )
    }
    log.warning(`Read-back differs from what was written (${detail}); writing again`)
  }
}

function sameWeights(actual: Weights, expected: Weights): boolean {
  return Object.keys(expected).every((arn) => actual[arn] === expected[arn])
}
