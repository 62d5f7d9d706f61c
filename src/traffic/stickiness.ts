// Group stickiness and weights. On an ALB a client's AWSALBTG cookie decides its target group
// even when that group's weight is 0, and every answer renews the cookie: with stickiness on, a
// fleet at weight 0 can still serve pinned clients for as long as they keep coming back. So
// stickiness is for canary steps, where both fleets take traffic; whenever a write leaves one
// fleet at 0 (the flip, every restore, a rollback) it is turned off, unless AWS forbids that.
import type { Route } from '../aws/elbv2.js'
import { routeLabel, targetGroupName } from '../config/arn.js'
import type { Stickiness } from '../config/inputs.js'
import { stickinessEnabled, type Weights } from '../plan/forward-action.js'

/**
 * What a write sets: during a canary step what the run was asked for (`keep` keeps the route's
 * setting as read just before the write); when one fleet is left at weight 0, off. AWS refuses
 * group stickiness off on a forward action whose groups have target stickiness on, so then the
 * route keeps it (and the run says what that means).
 */
export function stickinessForWrite(
  asked: Stickiness,
  weights: Weights,
  targetSticky: boolean,
  route: Route
): Stickiness {
  const oneFleetAtZero = Object.values(weights).some((w) => w === 0)
  if (!oneFleetAtZero) return asked
  return stickinessEnabled(route) && !targetSticky ? { mode: 'off' } : { mode: 'keep' }
}

/** What the run tells the user about stickiness for this write, if anything. */
export function stickinessNote(routes: Route[], weights: Weights, targetSticky: boolean): string | undefined {
  const zero = Object.keys(weights).find((arn) => weights[arn] === 0)
  const sticky = routes.filter(stickinessEnabled)
  if (!zero || sticky.length === 0) return undefined
  const where = sticky.map((r) => routeLabel(r.arn)).join(', ')
  if (targetSticky) {
    return `Group stickiness stays on (${where}): target stickiness on the pair requires it (AWS refuses to turn it off), so clients pinned to ${targetGroupName(zero)} keep reaching it until their cookie expires; turn target stickiness off on both groups to avoid this`
  }
  return `Group stickiness turned off on ${where}: with ${targetGroupName(zero)} at weight 0, a stickiness cookie would keep its clients on it`
}

/**
 * Routes whose group stickiness can send clients to the fleet at weight 0 right now: a deploy must
 * not change that fleet while they do.
 */
export function routesPinningTo(routes: Route[], fleetAtZero: string, pairWeightsOf: (r: Route) => Weights): Route[] {
  return routes.filter((r) => stickinessEnabled(r) && (pairWeightsOf(r)[fleetAtZero] ?? 0) === 0)
}
