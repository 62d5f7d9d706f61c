// ELBv2 operations the action calls, over the shared world.

import { forwardWeights, type ElbAction, type Listener, type Rule, type TargetGroup, type World } from '../world.js'
import { defaultRuleArn, elbResourceKind, listenerOfRule, loadBalancerOfListener } from './arns.js'
import type { Handler, ServiceContext } from './context.js'
import {
  asInt,
  asList,
  asObj,
  asStr,
  decodeActions,
  decodeConditions,
  describeAction,
  forwardTargets,
  validateActions
} from './elbv2-actions.js'
import { ApiError } from './errors.js'
import { paginate } from './pagination.js'
import type { QueryParams, QueryValue } from './query-protocol.js'
import { intRange, lengthRange, required } from './validate.js'

export const ELBV2_XMLNS = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/'
const V = 'ValidationError'
const MAX_PAGE = 400
const MAX_TAGS_PER_RESOURCE = 50

const strings = (value: QueryValue | undefined): string[] => asList(value).filter((v): v is string => typeof v === 'string')
const invalidMarker = (): ApiError => new ApiError(V, 'Invalid value for parameter Marker')

function pageSize(params: QueryParams): number {
  const size = asInt(params.PageSize, 'PageSize')
  intRange(V, size, 'PageSize', 1, MAX_PAGE)
  return size ?? MAX_PAGE
}

function page<T>(op: string, params: QueryParams, all: T[]): { items: T[]; NextMarker?: string } {
  const p = paginate(op, all, asStr(params.Marker), pageSize(params), invalidMarker)
  return p.next ? { items: p.items, NextMarker: p.next } : { items: p.items }
}

// ---- shapes as the API returns them --------------------------------------------------------

const listenerShape = (l: Listener) => ({
  ListenerArn: l.arn,
  LoadBalancerArn: l.loadBalancerArn,
  Port: l.port,
  Protocol: l.protocol,
  DefaultActions: l.defaultActions.map(describeAction)
})

const ruleShape = (r: Pick<Rule, 'arn' | 'priority' | 'conditions' | 'actions'>) => ({
  RuleArn: r.arn,
  Priority: r.priority,
  Conditions: r.conditions,
  Actions: r.actions.map(describeAction),
  IsDefault: r.priority === 'default'
})

const seconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000))

const targetGroupShape = (tg: TargetGroup) => ({
  TargetGroupArn: tg.arn,
  TargetGroupName: tg.name,
  Protocol: tg.protocol,
  Port: tg.port,
  VpcId: tg.vpcId,
  HealthCheckProtocol: 'HTTP',
  HealthCheckPort: 'traffic-port',
  HealthCheckEnabled: true,
  HealthCheckIntervalSeconds: seconds(tg.healthCheck.intervalMs),
  HealthCheckTimeoutSeconds: seconds(tg.healthCheck.timeoutMs),
  HealthyThresholdCount: tg.healthCheck.healthyThreshold,
  UnhealthyThresholdCount: tg.healthCheck.unhealthyThreshold,
  HealthCheckPath: tg.healthCheck.path,
  Matcher: { HttpCode: tg.healthCheck.matcher },
  LoadBalancerArns: tg.loadBalancerArns,
  TargetType: tg.targetType,
  ProtocolVersion: 'HTTP1',
  IpAddressType: 'ipv4'
})

/** Attributes of an HTTP instance target group with AWS's defaults, overridable per group. */
export function targetGroupAttributes(tg: TargetGroup): Record<string, string> {
  return {
    'stickiness.enabled': 'false',
    'deregistration_delay.timeout_seconds': '300',
    'stickiness.type': 'lb_cookie',
    'stickiness.lb_cookie.duration_seconds': '86400',
    'stickiness.app_cookie.cookie_name': '',
    'stickiness.app_cookie.duration_seconds': '86400',
    'slow_start.duration_seconds': '0',
    'load_balancing.algorithm.type': 'round_robin',
    'load_balancing.algorithm.anomaly_mitigation': 'off',
    'load_balancing.cross_zone.enabled': 'use_load_balancer_configuration',
    'target_group_health.dns_failover.minimum_healthy_targets.count': '1',
    'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': '1',
    ...(tg.attributes ?? {})
  }
}

// ---- lookups --------------------------------------------------------------------------------

function listenerOrThrow(world: World, arn: string): Listener {
  const l = world.listeners.get(arn)
  if (!l) throw new ApiError('ListenerNotFound', `Listener '${arn}' not found`)
  return l
}

function targetGroupOrThrow(world: World, arn: string): TargetGroup {
  const tg = world.targetGroups.get(arn)
  if (!tg) throw new ApiError('TargetGroupNotFound', `Target groups '${arn}' not found`)
  return tg
}

function loadBalancerExists(world: World, arn: string): boolean {
  for (const l of world.listeners.values()) if (l.loadBalancerArn === arn) return true
  for (const tg of world.targetGroups.values()) if (tg.loadBalancerArns.includes(arn)) return true
  return false
}

function defaultRule(l: Listener) {
  return { arn: defaultRuleArn(l.arn), priority: 'default', conditions: [], actions: l.defaultActions }
}

/** Rules of a listener in the order AWS lists them: by priority, the default rule last. */
function rulesOf(world: World, l: Listener) {
  const rules = [...world.rules.values()]
    .filter((r) => r.listenerArn === l.arn && r.priority !== 'default')
    .sort((a, b) => Number(a.priority) - Number(b.priority))
  return [...rules, defaultRule(l)]
}

function findRule(world: World, arn: string) {
  const stored = world.rules.get(arn)
  if (stored) return stored
  const listener = world.listeners.get(listenerOfRule(arn))
  if (listener && defaultRuleArn(listener.arn) === arn) return defaultRule(listener)
  throw new ApiError('RuleNotFound', `One or more rules not found`)
}

/**
 * A target group is associated with a load balancer while any of its routes forwards to it;
 * AWS keeps `LoadBalancerArns` in step with the routes, and the health checker relies on that.
 */
function reassociate(world: World, lbArn: string, touched: string[]): void {
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

function recordWeights(ctx: ServiceContext, routeArn: string, actions: ElbAction[]): void {
  const call = ctx.currentCall
  ctx.world.weightChanges.push({ at: ctx.now(), routeArn, weights: forwardWeights(actions), caller: call?.caller, seq: call?.seq })
}

// ---- tags -----------------------------------------------------------------------------------

function tagsOf(ctx: ServiceContext, arn: string): Map<string, string> {
  const { world } = ctx
  const kind = elbResourceKind(arn)
  const stored =
    kind === 'listener'
      ? world.listeners.get(arn)?.tags
      : kind === 'listener-rule'
        ? world.rules.get(arn)?.tags
        : kind === 'targetgroup'
          ? world.targetGroups.get(arn)?.tags
          : undefined
  if (stored) return stored
  const exists =
    (kind === 'loadbalancer' && loadBalancerExists(world, arn)) ||
    (kind === 'listener-rule' && world.listeners.get(listenerOfRule(arn)) !== undefined && defaultRuleArn(listenerOfRule(arn)) === arn)
  if (!exists) {
    const code =
      kind === 'listener'
        ? 'ListenerNotFound'
        : kind === 'listener-rule'
          ? 'RuleNotFound'
          : kind === 'targetgroup'
            ? 'TargetGroupNotFound'
            : kind === 'loadbalancer'
              ? 'LoadBalancerNotFound'
              : V
    throw new ApiError(code, kind === 'unknown' ? `'${arn}' is not a valid resource ARN` : `Resource '${arn}' not found`)
  }
  let extra = ctx.extraTags.get(arn)
  if (!extra) ctx.extraTags.set(arn, (extra = new Map()))
  return extra
}

// ---- operations -----------------------------------------------------------------------------

const describeListeners: Handler<QueryParams> = (params, { world }) => {
  const arns = strings(params.ListenerArns)
  const lb = asStr(params.LoadBalancerArn)
  if (arns.length === 0 && !lb) throw new ApiError(V, 'You must specify either listener ARNs or a load balancer ARN')
  let listeners: Listener[]
  if (arns.length > 0) {
    listeners = arns.map((arn) => listenerOrThrow(world, arn))
  } else {
    if (!loadBalancerExists(world, lb!)) throw new ApiError('LoadBalancerNotFound', `Load balancer '${lb}' not found`)
    listeners = [...world.listeners.values()].filter((l) => l.loadBalancerArn === lb)
  }
  const p = page('DescribeListeners', params, listeners)
  return { Listeners: p.items.map(listenerShape), NextMarker: p.NextMarker }
}

const describeRules: Handler<QueryParams> = (params, { world }) => {
  const arns = strings(params.RuleArns)
  const listenerArn = asStr(params.ListenerArn)
  if (arns.length === 0 && !listenerArn) throw new ApiError(V, 'You must specify either listener ARN or rule ARNs')
  const rules = arns.length > 0 ? arns.map((arn) => findRule(world, arn)) : rulesOf(world, listenerOrThrow(world, listenerArn!))
  const p = page('DescribeRules', params, rules)
  return { Rules: p.items.map(ruleShape), NextMarker: p.NextMarker }
}

const modifyListener: Handler<QueryParams> = (params, ctx) => {
  const { world } = ctx
  const arn = required(V, asStr(params.ListenerArn), 'ListenerArn')
  const listener = listenerOrThrow(world, arn)
  if (params.DefaultActions !== undefined) {
    const actions = decodeActions(params.DefaultActions)
    validateActions(world, actions)
    const touched = [...forwardTargets(listener.defaultActions), ...forwardTargets(actions)]
    listener.defaultActions = actions
    reassociate(world, listener.loadBalancerArn, touched)
  }
  recordWeights(ctx, arn, listener.defaultActions)
  return { Listeners: [listenerShape(listener)] }
}

const modifyRule: Handler<QueryParams> = (params, ctx) => {
  const { world } = ctx
  const arn = required(V, asStr(params.RuleArn), 'RuleArn')
  const found = findRule(world, arn)
  if (found.priority === 'default') {
    throw new ApiError('OperationNotPermitted', 'The default rule cannot be modified; use ModifyListener to change its actions')
  }
  const rule = found as Rule
  const actions = params.Actions !== undefined ? decodeActions(params.Actions) : undefined
  const conditions = params.Conditions !== undefined ? decodeConditions(params.Conditions) : undefined
  if (actions) validateActions(world, actions)
  if (conditions && conditions.length === 0) throw new ApiError(V, 'A rule must have at least one condition')
  if (actions) {
    const touched = [...forwardTargets(rule.actions), ...forwardTargets(actions)]
    rule.actions = actions
    reassociate(world, loadBalancerOfListener(rule.listenerArn), touched)
  }
  if (conditions) rule.conditions = conditions
  recordWeights(ctx, arn, rule.actions)
  return { Rules: [ruleShape(rule)] }
}

const describeTargetGroups: Handler<QueryParams> = (params, { world }) => {
  const arns = strings(params.TargetGroupArns)
  const names = strings(params.Names)
  const lb = asStr(params.LoadBalancerArn)
  if ([arns.length > 0, names.length > 0, lb !== undefined].filter(Boolean).length > 1) {
    throw new ApiError(V, 'Only one of TargetGroupArns, Names and LoadBalancerArn can be specified')
  }
  let groups: TargetGroup[]
  if (arns.length > 0) {
    groups = arns.map((arn) => targetGroupOrThrow(world, arn))
  } else if (names.length > 0) {
    groups = names.map((name) => {
      const tg = [...world.targetGroups.values()].find((t) => t.name === name)
      if (!tg) throw new ApiError('TargetGroupNotFound', `One or more target groups not found`)
      return tg
    })
  } else if (lb !== undefined) {
    if (!loadBalancerExists(world, lb)) throw new ApiError('LoadBalancerNotFound', `Load balancer '${lb}' not found`)
    groups = [...world.targetGroups.values()].filter((t) => t.loadBalancerArns.includes(lb))
  } else {
    groups = [...world.targetGroups.values()]
  }
  const p = page('DescribeTargetGroups', params, groups)
  return { TargetGroups: p.items.map(targetGroupShape), NextMarker: p.NextMarker }
}

const describeTargetGroupAttributes: Handler<QueryParams> = (params, { world }) => {
  const tg = targetGroupOrThrow(world, required(V, asStr(params.TargetGroupArn), 'TargetGroupArn'))
  return { Attributes: Object.entries(targetGroupAttributes(tg)).map(([Key, Value]) => ({ Key, Value })) }
}

const describeTargetHealth: Handler<QueryParams> = (params, { world }) => {
  const tg = targetGroupOrThrow(world, required(V, asStr(params.TargetGroupArn), 'TargetGroupArn'))
  const requested = asList(params.Targets).map((t) => {
    const o = asObj(t) ?? {}
    const id = required(V, asStr(o.Id), 'Id')
    if (tg.targetType === 'instance' && !/^i-[0-9a-f]{8,17}$/.test(id)) {
      throw new ApiError('InvalidTarget', `The following targets are not valid instances: '${id}'`)
    }
    return { id, port: asInt(o.Port, 'Port') }
  })
  const ids = requested.length > 0 ? requested : [...tg.targets.keys()].map((id) => ({ id, port: undefined }))
  return {
    TargetHealthDescriptions: ids.map(({ id, port }) => {
      // Each sandbox instance listens on its own loopback port; report that as the target port.
      const p = port ?? world.instances.get(id)?.port ?? tg.port
      const h = tg.targets.get(id) ?? {
        state: 'unused' as const,
        reason: 'Target.NotRegistered',
        description: 'Target is not registered to the target group'
      }
      return {
        Target: { Id: id, Port: p },
        HealthCheckPort: String(p),
        TargetHealth: { State: h.state, Reason: h.reason, Description: h.description }
      }
    })
  }
}

const describeTags: Handler<QueryParams> = (params, ctx) => {
  const arns = strings(params.ResourceArns)
  required(V, arns.length > 0 ? arns : undefined, 'ResourceArns')
  lengthRange(V, arns, 'ResourceArns', 1, 20)
  return {
    TagDescriptions: arns.map((arn) => ({
      ResourceArn: arn,
      Tags: [...tagsOf(ctx, arn)].map(([Key, Value]) => ({ Key, Value }))
    }))
  }
}

const addTags: Handler<QueryParams> = (params, ctx) => {
  const arns = strings(params.ResourceArns)
  required(V, arns.length > 0 ? arns : undefined, 'ResourceArns')
  const tags = asList(params.Tags).map((t) => {
    const o = asObj(t) ?? {}
    const key = required(V, asStr(o.Key), 'Key')
    const value = asStr(o.Value) ?? ''
    lengthRange(V, key, 'Key', 1, 128)
    lengthRange(V, value, 'Value', 0, 256)
    return [key, value] as const
  })
  required(V, tags.length > 0 ? tags : undefined, 'Tags')
  const keys = new Set<string>()
  for (const [key] of tags) {
    if (keys.has(key)) throw new ApiError('DuplicateTagKeys', `Tag key '${key}' is duplicated`)
    keys.add(key)
  }
  const targets = arns.map((arn) => tagsOf(ctx, arn))
  // All-or-nothing, like AWS: check every resource before changing any.
  targets.forEach((existing, i) => {
    const total = new Set([...existing.keys(), ...keys]).size
    if (total > MAX_TAGS_PER_RESOURCE) {
      throw new ApiError('TooManyTags', `Resource '${arns[i]}' cannot have more than ${MAX_TAGS_PER_RESOURCE} tags`)
    }
  })
  for (const existing of targets) for (const [k, v] of tags) existing.set(k, v)
  return {}
}

const removeTags: Handler<QueryParams> = (params, ctx) => {
  const arns = strings(params.ResourceArns)
  required(V, arns.length > 0 ? arns : undefined, 'ResourceArns')
  const keys = strings(params.TagKeys)
  required(V, keys.length > 0 ? keys : undefined, 'TagKeys')
  const targets = arns.map((arn) => tagsOf(ctx, arn))
  for (const existing of targets) for (const k of keys) existing.delete(k)
  return {}
}

export const elbv2Operations: Record<string, Handler<QueryParams>> = {
  DescribeListeners: describeListeners,
  DescribeRules: describeRules,
  ModifyListener: modifyListener,
  ModifyRule: modifyRule,
  DescribeTargetGroups: describeTargetGroups,
  DescribeTargetGroupAttributes: describeTargetGroupAttributes,
  DescribeTargetHealth: describeTargetHealth,
  DescribeTags: describeTags,
  AddTags: addTags,
  RemoveTags: removeTags
}
