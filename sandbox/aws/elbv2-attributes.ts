// Target group attributes (Describe/ModifyTargetGroupAttributes) and the one rule that ties
// target-level stickiness to the routes: a forward action that holds several target groups must
// have group stickiness on while any of its groups has target stickiness on (ALB docs, "Sticky
// sessions": "If you have a forward action with multiple target groups, and sticky sessions are
// enabled for one or more of the target groups, you must enable stickiness at the target group
// level"). AWS enforces it from both sides: ModifyTargetGroupAttributes refuses to turn target
// stickiness on behind such a route, and route writes refuse such an action.

import type { ElbAction, TargetGroup, World } from '../world.js'
import type { Handler } from './context.js'
import { asList, asObj, asStr } from './elbv2-actions.js'
import { allRoutes, targetGroupOrThrow } from './elbv2-resources.js'
import { ApiError } from './errors.js'
import type { QueryParams } from './query-protocol.js'
import { pattern, required } from './validate.js'

const V = 'ValidationError'
const RESERVED_COOKIES = ['AWSALB', 'AWSALBAPP', 'AWSALBTG']

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
    'target_group_health.dns_failover.minimum_healthy_targets.percentage': 'off',
    'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': '1',
    'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage': 'off',
    ...(tg.attributes ?? {})
  }
}

export const hasTargetStickiness = (tg: TargetGroup): boolean =>
  targetGroupAttributes(tg)['stickiness.enabled'] === 'true'

const intIn = (min: number, max: number) => (v: string) => /^\d+$/.test(v) && Number(v) >= min && Number(v) <= max
const oneOf =
  (...allowed: string[]) =>
  (v: string) =>
    allowed.includes(v)
const countOrOff = (v: string) => v === 'off' || /^[1-9]\d*$/.test(v)
const percentOrOff = (v: string) => v === 'off' || intIn(1, 100)(v)

/** What each attribute of an ALB instance target group accepts. */
const ACCEPTS: Record<string, [check: (v: string) => boolean, accepted: string]> = {
  'deregistration_delay.timeout_seconds': [intIn(0, 3600), 'an integer 0-3600'],
  'stickiness.enabled': [oneOf('true', 'false'), 'true or false'],
  'stickiness.type': [() => true, 'lb_cookie or app_cookie'],
  'stickiness.lb_cookie.duration_seconds': [intIn(1, 604800), 'an integer 1-604800'],
  'stickiness.app_cookie.cookie_name': [(v) => v.length <= 255, 'a cookie name'],
  'stickiness.app_cookie.duration_seconds': [intIn(1, 604800), 'an integer 1-604800'],
  'slow_start.duration_seconds': [(v) => v === '0' || intIn(30, 900)(v), '0 or an integer 30-900'],
  'load_balancing.algorithm.type': [
    oneOf('round_robin', 'least_outstanding_requests', 'weighted_random'),
    'round_robin, least_outstanding_requests or weighted_random'
  ],
  'load_balancing.algorithm.anomaly_mitigation': [oneOf('on', 'off'), 'on or off'],
  'load_balancing.cross_zone.enabled': [
    oneOf('true', 'false', 'use_load_balancer_configuration'),
    'true, false or use_load_balancer_configuration'
  ],
  'target_group_health.dns_failover.minimum_healthy_targets.count': [countOrOff, 'off or a positive integer'],
  'target_group_health.dns_failover.minimum_healthy_targets.percentage': [percentOrOff, 'off or an integer 1-100'],
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.count': [
    (v) => /^[1-9]\d*$/.test(v),
    'a positive integer'
  ],
  'target_group_health.unhealthy_state_routing.minimum_healthy_targets.percentage': [
    percentOrOff,
    'off or an integer 1-100'
  ]
}

function forwardGroups(action: ElbAction): string[] {
  const groups = action.ForwardConfig?.TargetGroups?.map((g) => g.TargetGroupArn) ?? []
  return groups.length > 0 ? groups : action.TargetGroupArn ? [action.TargetGroupArn] : []
}

/** A forward action to several groups without group stickiness: where target stickiness is refused. */
const multiGroupWithoutGroupStickiness = (a: ElbAction): boolean =>
  a.Type === 'forward' && forwardGroups(a).length > 1 && !a.ForwardConfig?.TargetGroupStickinessConfig?.Enabled

/** The check a route write (ModifyListener, ModifyRule, CreateRule) runs on its new actions. */
export function checkGroupStickiness(world: World, actions: ElbAction[]): void {
  for (const action of actions.filter(multiGroupWithoutGroupStickiness)) {
    const sticky = forwardGroups(action).find((arn) => {
      const tg = world.targetGroups.get(arn)
      return tg !== undefined && hasTargetStickiness(tg)
    })
    if (sticky) {
      // AWS's exact wording for this direction was not found; the code and the rule are AWS's.
      throw new ApiError(
        'InvalidConfigurationRequest',
        `Target group '${sticky}' has target stickiness enabled. You must enable group stickiness on a forward action ` +
          'with multiple target groups while one of them has target stickiness enabled'
      )
    }
  }
}

function validateAttributes(tg: TargetGroup, changes: Array<[string, string]>): Record<string, string> {
  const next = { ...targetGroupAttributes(tg) }
  for (const [key, value] of changes) {
    pattern(V, key, 'Key', /^[a-zA-Z0-9._]+$/)
    const accepts = ACCEPTS[key]
    if (!accepts)
      throw new ApiError(V, `Attribute key '${key}' is not recognized for target groups of Application Load Balancers`)
    if (key === 'stickiness.type' && value !== 'lb_cookie' && value !== 'app_cookie') {
      throw new ApiError(
        'InvalidConfigurationRequest',
        `Stickiness type '${value}' is not supported for target groups with the ${tg.protocol} protocol`
      )
    }
    if (!accepts[0](value))
      throw new ApiError(V, `Attribute '${key}' value '${value}' is not valid; accepted: ${accepts[1]}`)
    next[key] = value
  }
  const cookie = next['stickiness.app_cookie.cookie_name']
  if (RESERVED_COOKIES.some((r) => cookie.startsWith(r))) {
    throw new ApiError(
      V,
      `App cookie name '${cookie}' is not allowed; names starting with ${RESERVED_COOKIES.join(', ')} are reserved for the load balancer`
    )
  }
  if (next['stickiness.enabled'] === 'true' && next['stickiness.type'] === 'app_cookie' && cookie === '') {
    throw new ApiError(V, 'An app cookie name must be specified for application-based stickiness')
  }
  return next
}

const modifyTargetGroupAttributes: Handler<QueryParams> = (params, { world }) => {
  const tg = targetGroupOrThrow(world, required(V, asStr(params.TargetGroupArn), 'TargetGroupArn'))
  if (params.Attributes === undefined) required(V, undefined, 'Attributes')
  const changes = asList(params.Attributes).map((a): [string, string] => {
    const o = asObj(a) ?? {}
    return [required(V, asStr(o.Key), 'Key'), asStr(o.Value) ?? '']
  })
  const next = validateAttributes(tg, changes)
  if (changes.some(([k, v]) => k === 'stickiness.enabled' && v === 'true')) {
    const route = allRoutes(world).find((r) =>
      r.actions.some((a) => multiGroupWithoutGroupStickiness(a) && forwardGroups(a).includes(tg.arn))
    )
    if (route) {
      // AWS's wording, as users report it.
      throw new ApiError(
        'InvalidConfigurationRequest',
        `This target group appears behind a rule with group stickiness disabled (${route.arn}). You must enable group stickiness before enabling target stickiness`
      )
    }
  }
  const defaults = targetGroupAttributes({ ...tg, attributes: undefined })
  tg.attributes = Object.fromEntries(Object.entries(next).filter(([k, v]) => defaults[k] !== v))
  return { Attributes: Object.entries(next).map(([Key, Value]) => ({ Key, Value })) }
}

const describeTargetGroupAttributes: Handler<QueryParams> = (params, { world }) => {
  const tg = targetGroupOrThrow(world, required(V, asStr(params.TargetGroupArn), 'TargetGroupArn'))
  return { Attributes: Object.entries(targetGroupAttributes(tg)).map(([Key, Value]) => ({ Key, Value })) }
}

export const attributeOperations: Record<string, Handler<QueryParams>> = {
  DescribeTargetGroupAttributes: describeTargetGroupAttributes,
  ModifyTargetGroupAttributes: modifyTargetGroupAttributes
}
