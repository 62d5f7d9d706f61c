import type { Action } from '@aws-sdk/client-elastic-load-balancing-v2'
import type { Route } from '../aws/elbv2.js'
import { routeLabel, targetGroupName } from '../config/arn.js'
import type { Stickiness } from '../config/inputs.js'
import { DeployError } from '../config/errors.js'

/** Target group ARN -> weight, for the groups of one forward action. */
export type Weights = Record<string, number>

/** The two target groups the action moves traffic between. */
export type Pair = readonly [string, string]

/** How a route splits traffic between the pair. */
export interface RouteWeights {
  route: Route
  /** Weight of each group of the pair on this route. */
  weights: Weights
}

/** The groups and weights of a route's forward action, in either form AWS returns. */
export function forwardGroups(route: Route): Array<{ arn: string; weight: number }> {
  const forward = route.actions.find((a) => a.Type === 'forward')
  if (!forward) {
    const types = route.actions.map((a) => a.Type).join(', ') || 'none'
    throw new DeployError(
      `${describeRoute(route)} does not forward to target groups (its actions: ${types}); give the listener or rule whose action forwards to the blue and green target groups`
    )
  }
  const groups = forward.ForwardConfig?.TargetGroups
  if (groups && groups.length > 0) {
    // AWS omits Weight when it is the default, 1.
    return groups.map((g) => ({ arn: g.TargetGroupArn ?? '', weight: g.Weight ?? 1 }))
  }
  return forward.TargetGroupArn ? [{ arn: forward.TargetGroupArn, weight: 1 }] : []
}

/** Finds the pair on one route: the given pair, or the two groups of its forward action. */
export function pairOnRoute(route: Route, given?: { blue: string; green: string }): Pair {
  const groups = forwardGroups(route)
  const names = groups.map((g) => targetGroupName(g.arn)).join(', ')
  if (given) {
    for (const arn of [given.blue, given.green]) {
      if (!groups.some((g) => g.arn === arn)) {
        throw new DeployError(
          `${describeRoute(route)} forwards to ${names}, not to ${targetGroupName(arn)}; add ${targetGroupName(arn)} to its forward action (at weight 0 if idle) so that it is health-checked and can take traffic`
        )
      }
    }
    return [given.blue, given.green]
  }
  if (groups.length === 1) {
    throw new DeployError(
      `${describeRoute(route)} forwards only to ${names}; add the idle target group to its forward action at weight 0, so that it is health-checked and can take traffic`
    )
  }
  if (groups.length !== 2) {
    throw new DeployError(
      `${describeRoute(route)} forwards to ${groups.length} target groups (${names}); say which two are the pair with blue-target-group-arn and green-target-group-arn`
    )
  }
  return [groups[0].arn, groups[1].arn]
}

/** The pair shared by every route; routes that disagree are an error. */
export function findPair(routes: Route[], given?: { blue: string; green: string }): Pair {
  const pairs = routes.map((route) => pairOnRoute(route, given))
  const key = (p: Pair) => [...p].sort().join(' ')
  const first = pairs[0]
  pairs.forEach((pair, i) => {
    if (key(pair) !== key(first)) {
      throw new DeployError(
        `${describeRoute(routes[i])} forwards to ${pair.map(targetGroupName).join(' and ')} but ${describeRoute(routes[0])} to ${first.map(targetGroupName).join(' and ')}; every route given must forward to the same two target groups`
      )
    }
  })
  return first
}

export function pairWeights(route: Route, pair: Pair): Weights {
  const groups = forwardGroups(route)
  return Object.fromEntries(pair.map((arn) => [arn, groups.find((g) => g.arn === arn)?.weight ?? 0]))
}

/**
 * The route's action list with only the pair's weights (and stickiness, when asked) changed.
 * ModifyListener and ModifyRule replace the whole list, so every other action, its order and
 * any other target group in the forward action must go back exactly as read.
 */
export function withWeights(route: Route, weights: Weights, stickiness: Stickiness): Action[] {
  return route.actions.map((action) => {
    if (action.Type === 'forward') return forwardWithWeights(route, action, weights, stickiness)
    if (action.Type === 'authenticate-oidc' && action.AuthenticateOidcConfig) {
      // Describe never returns the client secret; without this flag the write would need it.
      return { ...action, AuthenticateOidcConfig: { ...action.AuthenticateOidcConfig, UseExistingClientSecret: true } }
    }
    return action
  })
}

function forwardWithWeights(route: Route, action: Action, weights: Weights, stickiness: Stickiness): Action {
  const groups = forwardGroups(route).map((g) => ({
    TargetGroupArn: g.arn,
    Weight: g.arn in weights ? weights[g.arn] : g.weight
  }))
  const current = action.ForwardConfig?.TargetGroupStickinessConfig
  const stickinessConfig =
    stickiness.mode === 'keep'
      ? current
      : stickiness.mode === 'off'
        ? { Enabled: false }
        : { Enabled: true, DurationSeconds: stickiness.durationSeconds }
  // The single TargetGroupArn form cannot hold weights; write ForwardConfig only, since AWS
  // rejects a TargetGroupArn that disagrees with a multi-group ForwardConfig.
  const { TargetGroupArn: _single, ...rest } = action
  return {
    ...rest,
    ForwardConfig: {
      TargetGroups: groups,
      ...(stickinessConfig ? { TargetGroupStickinessConfig: stickinessConfig } : {})
    }
  }
}

export function describeRoute(route: Route): string {
  return `${route.kind === 'listener' ? 'Listener' : 'Rule'} ${routeLabel(route.arn)}`
}

/** Whether the route's forward action pins clients to a target group (group stickiness). */
export function stickinessEnabled(route: Route): boolean {
  return route.actions.some(
    (a) => a.Type === 'forward' && a.ForwardConfig?.TargetGroupStickinessConfig?.Enabled === true
  )
}
