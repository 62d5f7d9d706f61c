import { targetGroupName } from '../config/arn.js'
import { DeployError } from '../config/errors.js'
import type { Route } from '../aws/elbv2.js'
import { describeRoute, findPair, pairWeights, type Pair, type RouteWeights, type Weights } from './forward-action.js'

/** Where traffic goes now, across every route given. */
export interface TrafficState {
  pair: Pair
  routes: RouteWeights[]
  /** Percent of traffic on each group of the pair, when every route agrees. */
  percent?: Weights
  /** The group with all the traffic, when there is one. */
  live?: string
  /** The group with none of it, when the other has all. */
  idle?: string
  /** Both groups take traffic: a canary is in progress. */
  mixed: boolean
}

/** Reads the pair and its weights from the routes; a route forwarding to neither is an error. */
export function readTrafficState(routes: Route[], given?: { blue: string; green: string }): TrafficState {
  const pair = findPair(routes, given)
  const routeWeights = routes.map((route) => ({ route, weights: pairWeights(route, pair) }))
  for (const { route, weights } of routeWeights) {
    if (pair.every((arn) => weights[arn] === 0)) {
      throw new DeployError(
        `${describeRoute(route)} gives weight 0 to both ${pair.map(targetGroupName).join(' and ')}; give the live target group a weight above 0`
      )
    }
  }
  // Classified from the raw weights: a weight of 1 against 999 rounds to 0% but still sends traffic.
  const shares = routeWeights.map(({ weights }) => share(weights))
  const agree = shares.every((s) => pair.every((arn) => Math.abs(s[arn] - shares[0][arn]) < 1e-9))
  const first = routeWeights[0].weights
  const live = agree
    ? pair.find((arn) => first[arn] > 0 && pair.every((other) => other === arn || first[other] === 0))
    : undefined
  return {
    pair,
    routes: routeWeights,
    percent: agree ? toPercent(first) : undefined,
    live,
    idle: live ? pair.find((arn) => arn !== live) : undefined,
    mixed: agree && pair.every((arn) => first[arn] > 0)
  }
}

function share(weights: Weights): Weights {
  const total = Object.values(weights).reduce((a, b) => a + b, 0)
  return Object.fromEntries(Object.entries(weights).map(([arn, w]) => [arn, total === 0 ? 0 : w / total]))
}

/** Weights as percent of the pair's total (ALB weights are relative, 0..999). */
export function toPercent(weights: Weights): Weights {
  const total = Object.values(weights).reduce((a, b) => a + b, 0)
  return Object.fromEntries(Object.entries(weights).map(([arn, w]) => [arn, total === 0 ? 0 : clampShare(w, total)]))
}

/** Percent of traffic per group, averaged over routes so that a split-brain shows as such. */
export function averagePercent(routes: Route[], pair: Pair): Record<string, number> {
  const percents = routes.map((r) => toPercent(pairWeights(r, pair)))
  return Object.fromEntries(
    pair.map((arn) => [arn, Math.round(percents.reduce((sum, p) => sum + p[arn], 0) / percents.length)])
  )
}

/** A one-line description of where traffic goes, for logs and errors. */
export function describeWeights(weights: Weights): string {
  return Object.entries(weights)
    .map(([arn, w]) => `${targetGroupName(arn)} ${w}`)
    .join(' / ')
}

// A group with any weight shows at least 1%, and one sharing traffic at most 99%, so that a
// percentage never claims a fleet is idle or takes everything when it does not.
function clampShare(weight: number, total: number): number {
  if (weight === 0) return 0
  if (weight === total) return 100
  return Math.min(99, Math.max(1, Math.round((weight / total) * 100)))
}
