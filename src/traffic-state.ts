import { targetGroupName } from './arn.js'
import { DeployError } from './errors.js'
import { describeRoute, findPair, pairWeights, type Pair, type Route, type RouteWeights, type Weights } from './forward-action.js'

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
  const percents = routeWeights.map(({ weights }) => toPercent(weights))
  const agree = percents.every((p) => pair.every((arn) => p[arn] === percents[0][arn]))
  const percent = agree ? percents[0] : undefined
  const live = percent ? pair.find((arn) => percent[arn] === 100) : undefined
  return {
    pair,
    routes: routeWeights,
    percent,
    live,
    idle: live ? pair.find((arn) => arn !== live) : undefined,
    mixed: percent !== undefined && pair.every((arn) => percent[arn] > 0)
  }
}

/** Weights as percent of the pair's total (ALB weights are relative, 0..999). */
export function toPercent(weights: Weights): Weights {
  const total = Object.values(weights).reduce((a, b) => a + b, 0)
  return Object.fromEntries(Object.entries(weights).map(([arn, w]) => [arn, total === 0 ? 0 : Math.round((w / total) * 100)]))
}

/** A one-line description of where traffic goes, for logs and errors. */
export function describeWeights(weights: Weights): string {
  return Object.entries(weights)
    .map(([arn, w]) => `${targetGroupName(arn)} ${w}`)
    .join(' / ')
}
