// ELBv2 operations the action calls, over the shared world.

import { forwardWeights, type ElbAction, type Listener, type Rule, type TargetGroup, type World } from '../world.js'
import { loadBalancerOfListener, ruleArn } from './arns.js'
import type { Handler, ServiceContext } from './context.js'
import {
  asInt,
  asList,
  asObj,
  asStr,
  decodeActions,
  describeAction,
  forwardTargets,
  validateActions
} from './elbv2-actions.js'
import { attributeOperations, checkGroupStickiness } from './elbv2-attributes.js'
import { decodeConditions, validateConditions } from './elbv2-conditions.js'
import {
  findRule,
  listenerOrThrow,
  loadBalancerArns,
  loadBalancerExists,
  reassociate,
  rulesOf,
  targetGroupOrThrow,
  type RuleView
} from './elbv2-resources.js'
import { readTags, tagOperations } from './elbv2-tags.js'
import { ApiError } from './errors.js'
import { paginate } from './pagination.js'
import type { QueryParams, QueryValue } from './query-protocol.js'
import { intRange, required } from './validate.js'

export const ELBV2_XMLNS = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/'
const V = 'ValidationError'
const MAX_PAGE = 400
const MAX_RULES_PER_LOAD_BALANCER = 100

const strings = (value: QueryValue | undefined): string[] =>
  asList(value).filter((v): v is string => typeof v === 'string')
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

const ruleShape = (r: RuleView) => ({
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

/** Route 53 zone of ALBs per region (AWS publishes these); us-east-1's when the region is unlisted. */
const ALB_HOSTED_ZONES: Record<string, string> = {
  'us-east-1': 'Z35SXDOTRQ7X7K',
  'us-east-2': 'Z3AADJGX6KTTL2',
  'us-west-2': 'Z1H1FL5HABSF5',
  'eu-west-1': 'Z32O12XQLNTSW2',
  'eu-central-1': 'Z215JYRZR1TBD5'
}

/** When the sandbox first saw each load balancer: its CreatedTime. */
const firstSeen = new WeakMap<World, Map<string, number>>()

function loadBalancerShape(world: World, arn: string, now: number) {
  const [, name = 'lb', id = '0'] = /:loadbalancer\/app\/([^/]+)\/([0-9a-f]+)$/.exec(arn) ?? []
  let seen = firstSeen.get(world)
  if (!seen) firstSeen.set(world, (seen = new Map()))
  if (!seen.has(arn)) seen.set(arn, now)
  const vpcId =
    [...world.targetGroups.values()].find((tg) => tg.loadBalancerArns.includes(arn))?.vpcId ?? 'vpc-0a1b2c3d4e5f67890'
  return {
    LoadBalancerArn: arn,
    DNSName: `${name}-${parseInt(id.slice(0, 8), 16)}.${world.region}.elb.amazonaws.com`,
    CanonicalHostedZoneId: ALB_HOSTED_ZONES[world.region] ?? ALB_HOSTED_ZONES['us-east-1'],
    CreatedTime: new Date(seen.get(arn)!),
    LoadBalancerName: name,
    Scheme: 'internet-facing',
    VpcId: vpcId,
    State: { Code: 'active' },
    Type: 'application',
    AvailabilityZones: ['a', 'b'].map((az, i) => ({
      ZoneName: `${world.region}${az}`,
      SubnetId: `subnet-0${id.slice(i, i + 16).padEnd(16, '0')}`
    })),
    SecurityGroups: [`sg-0${id.slice(0, 16)}`],
    IpAddressType: 'ipv4'
  }
}

function recordWeights(ctx: ServiceContext, routeArn: string, actions: ElbAction[]): void {
  const call = ctx.currentCall
  ctx.world.weightChanges.push({
    at: ctx.now(),
    routeArn,
    weights: forwardWeights(actions),
    caller: call?.caller,
    seq: call?.seq
  })
}

// ---- operations -----------------------------------------------------------------------------

const describeLoadBalancers: Handler<QueryParams> = (params, ctx) => {
  const { world } = ctx
  const arns = strings(params.LoadBalancerArns)
  const names = strings(params.Names)
  if (arns.length > 0 && names.length > 0)
    throw new ApiError(V, 'Load balancer ARNs and names cannot be specified at the same time')
  const known = loadBalancerArns(world)
  const nameOf = (arn: string): string => /:loadbalancer\/app\/([^/]+)\//.exec(arn)?.[1] ?? ''
  const missing =
    arns.length > 0 ? arns.some((a) => !known.includes(a)) : names.some((n) => !known.some((a) => nameOf(a) === n))
  if (missing) throw new ApiError('LoadBalancerNotFound', 'One or more load balancers not found')
  const selected =
    arns.length > 0 ? [...new Set(arns)] : names.length > 0 ? known.filter((a) => names.includes(nameOf(a))) : known
  const p = page('DescribeLoadBalancers', params, selected)
  return { LoadBalancers: p.items.map((arn) => loadBalancerShape(world, arn, ctx.now())), NextMarker: p.NextMarker }
}

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
  const rules =
    arns.length > 0 ? arns.map((arn) => findRule(world, arn)) : rulesOf(world, listenerOrThrow(world, listenerArn!))
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
    checkGroupStickiness(world, actions)
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
  // A listener's default rule changes only through ModifyListener.
  if (found.priority === 'default')
    throw new ApiError('OperationNotPermitted', `Default rule '${arn}' cannot be modified`)
  const rule = found as Rule
  refuseTransforms(params)
  const actions = params.Actions !== undefined ? decodeActions(params.Actions) : undefined
  const conditions = params.Conditions !== undefined ? decodeConditions(params.Conditions) : undefined
  if (actions) validateActions(world, actions)
  if (actions) checkGroupStickiness(world, actions)
  if (conditions) validateConditions(conditions)
  if (actions) {
    const touched = [...forwardTargets(rule.actions), ...forwardTargets(actions)]
    rule.actions = actions
    reassociate(world, loadBalancerOfListener(rule.listenerArn), touched)
  }
  if (conditions) rule.conditions = conditions
  recordWeights(ctx, arn, rule.actions)
  return { Rules: [ruleShape(rule)] }
}

/** Rule transforms rewrite requests before they reach targets; the proxy does not, so refuse them loudly. */
function refuseTransforms(params: QueryParams): void {
  if (params.Transforms !== undefined || params.ResetTransforms !== undefined) {
    throw new ApiError(V, 'The sandbox does not model rule transforms (Transforms, ResetTransforms)')
  }
}

const createRule: Handler<QueryParams> = (params, ctx) => {
  const { world } = ctx
  const listener = listenerOrThrow(world, required(V, asStr(params.ListenerArn), 'ListenerArn'))
  refuseTransforms(params)
  const priority = required(V, asInt(params.Priority, 'Priority'), 'Priority')
  intRange(V, priority, 'Priority', 1, 50000)
  if (params.Conditions === undefined) required(V, undefined, 'Conditions')
  if (params.Actions === undefined) required(V, undefined, 'Actions')
  const conditions = decodeConditions(params.Conditions)
  const actions = decodeActions(params.Actions)
  const tags = params.Tags !== undefined ? readTags(params.Tags) : []
  if (params.Tags !== undefined && tags.length === 0) required(V, undefined, 'Tags')
  validateConditions(conditions)
  validateActions(world, actions)
  checkGroupStickiness(world, actions)
  const siblings = [...world.rules.values()].filter((r) => r.listenerArn === listener.arn)
  if (siblings.some((r) => r.priority === String(priority))) {
    throw new ApiError('PriorityInUse', `Priority '${priority}' is currently in use`)
  }
  const onLoadBalancer = [...world.rules.values()].filter(
    (r) => world.listeners.get(r.listenerArn)?.loadBalancerArn === listener.loadBalancerArn
  )
  if (onLoadBalancer.length >= MAX_RULES_PER_LOAD_BALANCER) {
    throw new ApiError(
      'TooManyRules',
      `The maximum number of rules (${MAX_RULES_PER_LOAD_BALANCER}) for load balancer '${listener.loadBalancerArn}' has been reached`
    )
  }
  const rule: Rule = {
    arn: ruleArn(listener.arn),
    listenerArn: listener.arn,
    priority: String(priority),
    conditions,
    actions,
    tags: new Map(tags)
  }
  world.rules.set(rule.arn, rule)
  reassociate(world, listener.loadBalancerArn, forwardTargets(actions))
  recordWeights(ctx, rule.arn, rule.actions)
  return { Rules: [ruleShape(rule)] }
}

const deleteRule: Handler<QueryParams> = (params, { world }) => {
  const arn = required(V, asStr(params.RuleArn), 'RuleArn')
  const found = findRule(world, arn)
  if (found.priority === 'default')
    throw new ApiError('OperationNotPermitted', `Default rule '${arn}' cannot be deleted`)
  world.rules.delete(arn)
  reassociate(world, loadBalancerOfListener(found.listenerArn), forwardTargets(found.actions))
  return {}
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

export const elbv2Operations: Record<string, Handler<QueryParams>> = {
  DescribeLoadBalancers: describeLoadBalancers,
  DescribeListeners: describeListeners,
  DescribeRules: describeRules,
  ModifyListener: modifyListener,
  CreateRule: createRule,
  ModifyRule: modifyRule,
  DeleteRule: deleteRule,
  DescribeTargetGroups: describeTargetGroups,
  ...attributeOperations,
  DescribeTargetHealth: describeTargetHealth,
  ...tagOperations
}
