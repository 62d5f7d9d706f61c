// Listener/rule actions: decoding from Query params, the checks ELBv2 applies on
// ModifyListener/ModifyRule, and the shape DescribeListeners/DescribeRules return them in.

import type { ElbAction, World } from '../world.js'
import { ApiError } from './errors.js'
import type { QueryValue } from './query-protocol.js'
import { intRange } from './validate.js'

const V = 'ValidationError'
const ACTION_TYPES = ['forward', 'fixed-response', 'redirect', 'authenticate-oidc', 'authenticate-cognito'] as const
const TERMINAL = new Set(['forward', 'fixed-response', 'redirect'])
const MAX_GROUPS_PER_FORWARD = 5
const MAX_ACTIONS = 5

type Obj = { [key: string]: QueryValue }

export function asList(value: QueryValue | undefined): QueryValue[] {
  if (value === undefined || value === '') return []
  return Array.isArray(value) ? value : [value]
}

export function asObj(value: QueryValue | undefined): Obj | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? value : undefined
}

export function asStr(value: QueryValue | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined
}

export function asInt(value: QueryValue | undefined, member: string): number | undefined {
  if (value === undefined) return undefined
  const n = typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : NaN
  if (Number.isNaN(n)) throw new ApiError(V, `Value '${String(value)}' for parameter ${member} is invalid`)
  return n
}

function asBool(value: QueryValue | undefined): boolean | undefined {
  return value === undefined ? undefined : value === 'true'
}

/** Deep copy of a decoded sub-tree as plain strings/arrays/objects (configs we only store). */
function plain(value: QueryValue): unknown {
  if (typeof value === 'string') return value
  if (Array.isArray(value)) return value.map(plain)
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
}

export function decodeActions(raw: QueryValue | undefined): ElbAction[] {
  return asList(raw).map((item) => {
    const a = asObj(item) ?? {}
    const type = asStr(a.Type)
    if (!type) throw new ApiError(V, 'An action type must be specified')
    if (!(ACTION_TYPES as readonly string[]).includes(type)) {
      throw new ApiError(V, `Action type '${type}' must be one of '${ACTION_TYPES.join(', ')}'`)
    }
    const action: ElbAction = { Type: type as ElbAction['Type'] }
    const order = asInt(a.Order, 'Order')
    if (order !== undefined) action.Order = order
    const tg = asStr(a.TargetGroupArn)
    if (tg !== undefined) action.TargetGroupArn = tg
    const fc = asObj(a.ForwardConfig)
    if (fc) {
      action.ForwardConfig = {}
      if (fc.TargetGroups !== undefined) {
        action.ForwardConfig.TargetGroups = asList(fc.TargetGroups).map((g) => {
          const t = asObj(g) ?? {}
          const weight = asInt(t.Weight, 'Weight')
          return { TargetGroupArn: asStr(t.TargetGroupArn) ?? '', ...(weight !== undefined ? { Weight: weight } : {}) }
        })
      }
      const st = asObj(fc.TargetGroupStickinessConfig)
      if (st) {
        const enabled = asBool(st.Enabled)
        const duration = asInt(st.DurationSeconds, 'DurationSeconds')
        action.ForwardConfig.TargetGroupStickinessConfig = {
          ...(enabled !== undefined ? { Enabled: enabled } : {}),
          ...(duration !== undefined ? { DurationSeconds: duration } : {})
        }
      }
    }
    const fixed = asObj(a.FixedResponseConfig)
    if (fixed) action.FixedResponseConfig = plain(fixed) as ElbAction['FixedResponseConfig']
    const redirect = asObj(a.RedirectConfig)
    if (redirect) action.RedirectConfig = plain(redirect) as Record<string, string>
    const oidc = asObj(a.AuthenticateOidcConfig)
    if (oidc) action.AuthenticateOidcConfig = plain(oidc) as Record<string, unknown>
    const cognito = asObj(a.AuthenticateCognitoConfig)
    if (cognito) action.AuthenticateCognitoConfig = plain(cognito) as Record<string, unknown>
    return action
  })
}

/** The checks ELBv2 runs on an action list before accepting it. */
export function validateActions(world: World, actions: ElbAction[]): void {
  if (actions.length === 0) throw new ApiError(V, 'At least one action must be specified')
  if (actions.length > MAX_ACTIONS) {
    throw new ApiError('TooManyActions', `A rule can have a maximum of ${MAX_ACTIONS} actions`)
  }
  const orders = new Set<number>()
  for (const action of actions) {
    intRange(V, action.Order, 'Order', 1, 50000)
    if (action.Order !== undefined) {
      if (orders.has(action.Order)) {
        throw new ApiError('InvalidLoadBalancerAction', `Action order '${action.Order}' is used more than once`)
      }
      orders.add(action.Order)
    }
    if (action.Type === 'forward') validateForward(world, action)
  }
  const terminal = actions.filter((a) => TERMINAL.has(a.Type))
  if (terminal.length !== 1) {
    throw new ApiError(
      'InvalidLoadBalancerAction',
      'Exactly one of the actions must be a forward, fixed-response or redirect action'
    )
  }
  const ordered = actions
    .map((a, i) => ({ a, key: a.Order ?? i + 1 }))
    .sort((x, y) => x.key - y.key)
    .map((x) => x.a)
  if (!TERMINAL.has(ordered[ordered.length - 1].Type)) {
    throw new ApiError(
      'InvalidLoadBalancerAction',
      `The ${terminal[0].Type} action must be the last action to be performed`
    )
  }
}

function validateForward(world: World, action: ElbAction): void {
  const groups = action.ForwardConfig?.TargetGroups ?? []
  if (!action.TargetGroupArn && groups.length === 0) {
    throw new ApiError(V, 'A target group ARN must be specified for a forward action')
  }
  if (action.TargetGroupArn && groups.length > 0) {
    if (groups.length !== 1 || groups[0].TargetGroupArn !== action.TargetGroupArn) {
      throw new ApiError(
        V,
        'You cannot specify both a target group ARN and a forward config unless the forward config contains only that target group'
      )
    }
  }
  if (groups.length > MAX_GROUPS_PER_FORWARD) {
    throw new ApiError(V, `You cannot specify more than ${MAX_GROUPS_PER_FORWARD} target groups in a forward action`)
  }
  const seen = new Set<string>()
  for (const g of groups) {
    if (!g.TargetGroupArn) throw new ApiError(V, 'A target group ARN must be specified for each target group')
    if (seen.has(g.TargetGroupArn)) {
      throw new ApiError(V, `Target group '${g.TargetGroupArn}' cannot be specified more than once in a forward action`)
    }
    seen.add(g.TargetGroupArn)
    if (g.Weight !== undefined && (g.Weight < 0 || g.Weight > 999)) {
      throw new ApiError(V, 'The weight for each target group must be between 0 and 999, inclusive')
    }
  }
  const stickiness = action.ForwardConfig?.TargetGroupStickinessConfig
  if (stickiness) {
    const d = stickiness.DurationSeconds
    // AWS's wording, also when the duration is missing (users report it for that case).
    if ((stickiness.Enabled && d === undefined) || (d !== undefined && (d < 1 || d > 604800))) {
      throw new ApiError(V, 'Target group stickiness duration must be between 1 and 604800 seconds')
    }
  }
  const arns = action.TargetGroupArn ? [action.TargetGroupArn, ...seen] : [...seen]
  const missing = arns.filter((arn) => !world.targetGroups.has(arn))
  if (missing.length > 0) {
    throw new ApiError('TargetGroupNotFound', `Target groups '${missing.join(', ')}' not found`)
  }
}

/**
 * An action as DescribeListeners/DescribeRules return it: a forward to one group carries both
 * `TargetGroupArn` and `ForwardConfig`, whichever form it was written in, and `ForwardConfig`
 * always states stickiness.
 */
export function describeAction(action: ElbAction): ElbAction {
  if (action.Type !== 'forward') return action
  const groups =
    action.ForwardConfig?.TargetGroups && action.ForwardConfig.TargetGroups.length > 0
      ? action.ForwardConfig.TargetGroups
      : action.TargetGroupArn
        ? [{ TargetGroupArn: action.TargetGroupArn, Weight: 1 }]
        : []
  const out: ElbAction = { Type: 'forward' }
  if (action.Order !== undefined) out.Order = action.Order
  const single = action.TargetGroupArn ?? (groups.length === 1 ? groups[0].TargetGroupArn : undefined)
  if (single) out.TargetGroupArn = single
  out.ForwardConfig = {
    TargetGroups: groups.map((g) => ({ TargetGroupArn: g.TargetGroupArn, Weight: g.Weight ?? 1 })),
    TargetGroupStickinessConfig: action.ForwardConfig?.TargetGroupStickinessConfig ?? { Enabled: false }
  }
  return out
}

/** Target groups an action list forwards to. */
export function forwardTargets(actions: ElbAction[]): string[] {
  const out = new Set<string>()
  for (const a of actions) {
    if (a.Type !== 'forward') continue
    if (a.TargetGroupArn) out.add(a.TargetGroupArn)
    for (const g of a.ForwardConfig?.TargetGroups ?? []) out.add(g.TargetGroupArn)
  }
  return [...out]
}
