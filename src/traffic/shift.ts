import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import { rereadRoutes, type Route, writeRouteActions } from '../aws/elbv2.js'
import { DeployError } from '../config/errors.js'
import type { Stickiness } from '../config/inputs.js'
import { describeRoute, pairWeights, type Pair, type Weights, withWeights } from '../plan/forward-action.js'
import { describeWeights } from '../plan/traffic-state.js'
import type { Log } from '../runtime/log.js'
import { stickinessForWrite, stickinessNote } from './stickiness.js'

const WRITE_ATTEMPTS = 3

export type { Guard } from '../records/parameter-lock.js'
import type { Guard } from '../records/parameter-lock.js'

/** Someone else (a person in the console, another tool) changed the pair's weights. */
export class TrafficChangedError extends DeployError {
  override name = 'TrafficChangedError'
  constructor(
    message: string,
    /** The routes as read when the change was found. */
    readonly routes: Route[]
  ) {
    super(message)
  }
}

export interface Shift {
  pair: Pair
  /** The pair's weights to write on each route, by ARN. */
  target: Record<string, Weights>
  /** Stickiness asked for while both fleets take traffic (stickiness.ts decides per write). */
  stickiness: Stickiness
  /** Either group of the pair has target-level stickiness on. */
  targetSticky: boolean
  /**
   * What this run believes each route's weights are now (what it last wrote or read). A route
   * found otherwise was changed by someone else: its weights win and nothing is written.
   */
  expected?: Record<string, Weights>
  guard: Guard
  log: Log
  /** Lines for the summary's warnings. */
  warnings?: string[]
}

/**
 * Sets the pair's weights on every route at once and reads them back. Each write starts from the
 * route as read just before it, so a change someone made to the rest of the listener during a
 * hold stays; a change to the pair's weights that this run did not make stops it instead (the
 * person's weights win). A read-back that differs is written again; after that it is an error,
 * since traffic is not where the run believes it is.
 */
export async function setWeights(elb: ElasticLoadBalancingV2Client, routes: Route[], shift: Shift): Promise<Route[]> {
  const { pair, target } = shift
  let current = await rereadRoutes(elb, routes)
  if (shift.expected) assertUnchanged(current, pair, shift.expected, target)
  let noted = false
  for (let attempt = 1; ; attempt++) {
    const pending = current.filter((route) => !sameWeights(pairWeights(route, pair), target[route.arn]))
    if (pending.length > 0) {
      if (!noted) note(shift, pending)
      noted = true
      await shift.guard(`Writing ${describeWeights(target[pending[0].arn])}`, () =>
        Promise.all(
          pending.map((route) =>
            writeRouteActions(
              elb,
              route,
              withWeights(
                route,
                target[route.arn],
                stickinessForWrite(shift.stickiness, target[route.arn], shift.targetSticky, route)
              )
            )
          )
        )
      )
    }
    current = await rereadRoutes(elb, routes)
    // A write that did not land reads back as it was: write it again. Anything else is someone
    // else's change since the read before the write, and theirs wins.
    if (shift.expected) assertUnchanged(current, pair, shift.expected, target)
    const wrong = current.filter((route) => !sameWeights(pairWeights(route, pair), target[route.arn]))
    if (wrong.length === 0) return current
    const detail = wrong.map((r) => `${describeRoute(r)} reads ${describeWeights(pairWeights(r, pair))}`).join('; ')
    if (attempt >= WRITE_ATTEMPTS) {
      throw new DeployError(
        `Weights did not stick after ${WRITE_ATTEMPTS} writes: ${detail}; something else is changing the listener, stop it and run rollback`
      )
    }
    shift.log.warning(`Read-back differs from what was written (${detail}); writing again`)
  }
}

/** Throws TrafficChangedError when a route's pair weights are neither expected nor already the target. */
export function assertUnchanged(
  routes: Route[],
  pair: Pair,
  expected: Record<string, Weights>,
  target?: Record<string, Weights>
): void {
  const changed = routes.filter((route) => {
    const now = pairWeights(route, pair)
    if (expected[route.arn] && sameWeights(now, expected[route.arn])) return false
    return !(target?.[route.arn] && sameWeights(now, target[route.arn]))
  })
  if (changed.length === 0) return
  const detail = changed
    .map(
      (r) =>
        `${describeRoute(r)} reads ${describeWeights(pairWeights(r, pair))} where this run left ${describeWeights(expected[r.arn] ?? {})}`
    )
    .join('; ')
  throw new TrafficChangedError(
    `Traffic was changed by someone else (${detail}); this run leaves it as it is and stops: run status, then promote or rollback`,
    routes
  )
}

function note(shift: Shift, pending: Route[]): void {
  const weights = shift.target[pending[0].arn]
  const message = stickinessNote(pending, weights, shift.targetSticky)
  if (!message) return
  shift.log.warning(message)
  shift.warnings?.push(message)
}

export function sameWeights(actual: Weights, expected: Weights | undefined): boolean {
  return !!expected && Object.keys(expected).every((arn) => actual[arn] === expected[arn])
}

/**
 * Turns group stickiness off on the routes that have it, weights unchanged: before a deploy
 * changes the fleet at weight 0, clients a cookie still pins to it must leave it.
 */
export async function releasePinnedClients(
  elb: ElasticLoadBalancingV2Client,
  routes: Route[],
  guard: Guard
): Promise<Route[]> {
  await guard('Turning group stickiness off', () =>
    Promise.all(routes.map((route) => writeRouteActions(elb, route, withStickinessOff(route))))
  )
  return rereadRoutes(elb, routes)
}

function withStickinessOff(route: Route) {
  return withWeights(route, {}, { mode: 'off' })
}
