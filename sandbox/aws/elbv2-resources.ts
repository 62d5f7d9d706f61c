// Finding ELBv2 resources in the world the way the API resolves them, with the API's not-found
// errors. The world keeps no load balancer records: a load balancer exists while a listener or a
// target group names it (fixtures create them together).

import type { Listener, Rule, TargetGroup, World } from '../world.js'
import { defaultRuleArn, listenerOfRule } from './arns.js'
import { forwardTargets } from './elbv2-actions.js'
import { ApiError } from './errors.js'

/** A rule as the API sees it: stored rules, plus each listener's default rule. */
export type RuleView = Pick<Rule, 'arn' | 'listenerArn' | 'priority' | 'conditions' | 'actions'>

export function listenerOrThrow(world: World, arn: string): Listener {
  const l = world.listeners.get(arn)
  if (!l) throw new ApiError('ListenerNotFound', `Listener '${arn}' not found`)
  return l
}

export function targetGroupOrThrow(world: World, arn: string): TargetGroup {
  const tg = world.targetGroups.get(arn)
  if (!tg) throw new ApiError('TargetGroupNotFound', `Target groups '${arn}' not found`)
  return tg
}

/** Every load balancer the world knows, in the order it first names them. */
export function loadBalancerArns(world: World): string[] {
  const out = new Set<string>()
  for (const l of world.listeners.values()) out.add(l.loadBalancerArn)
  for (const tg of world.targetGroups.values()) for (const lb of tg.loadBalancerArns) out.add(lb)
  return [...out]
}

export function loadBalancerExists(world: World, arn: string): boolean {
  return loadBalancerArns(world).includes(arn)
}

export function defaultRule(l: Listener): RuleView {
  return {
    arn: defaultRuleArn(l.arn),
    listenerArn: l.arn,
    priority: 'default',
    conditions: [],
    actions: l.defaultActions
  }
}

/** Rules of a listener in the order AWS lists them: by priority, the default rule last. */
export function rulesOf(world: World, l: Listener): RuleView[] {
  const rules = [...world.rules.values()]
    .filter((r) => r.listenerArn === l.arn && r.priority !== 'default')
    .sort((a, b) => Number(a.priority) - Number(b.priority))
  return [...rules, defaultRule(l)]
}

export function findRule(world: World, arn: string): RuleView {
  const stored = world.rules.get(arn)
  if (stored) return stored
  const listener = world.listeners.get(listenerOfRule(arn))
  if (listener && defaultRuleArn(listener.arn) === arn) return defaultRule(listener)
  throw new ApiError('RuleNotFound', 'One or more rules not found')
}

/** Every route (listener default rule or listener rule) of the world. */
export function allRoutes(world: World): RuleView[] {
  return [...world.listeners.values()].flatMap((l) => rulesOf(world, l))
}

/**
 * A target group is associated with a load balancer while any of its routes forwards to it;
 * AWS keeps `LoadBalancerArns` in step with the routes, and the health checker relies on that.
 */
export function reassociate(world: World, lbArn: string, touched: string[]): void {
  const used = new Set<string>()
  for (const l of world.listeners.values()) {
    if (l.loadBalancerArn !== lbArn) continue
    for (const arn of forwardTargets(l.defaultActions)) used.add(arn)
    for (const r of world.rules.values()) {
      if (r.listenerArn === l.arn) for (const arn of forwardTargets(r.actions)) used.add(arn)
    }
  }
  for (const arn of touched) {
    const tg = world.targetGroups.get(arn)
    if (!tg) continue
    const has = tg.loadBalancerArns.includes(lbArn)
    if (used.has(arn) && !has) tg.loadBalancerArns.push(lbArn)
    if (!used.has(arn) && has) tg.loadBalancerArns = tg.loadBalancerArns.filter((a) => a !== lbArn)
  }
}
