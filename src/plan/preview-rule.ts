// The preview route, decided before anything is created: which rule goes on which listener, at
// which priority, with which conditions and actions, and the curl line that reaches it. Pure, so
// every placement rule is tested without AWS.
import type { Action, Rule, RuleCondition, RuleTransform } from '@aws-sdk/client-elastic-load-balancing-v2'
import { routeLabel, targetGroupName } from '../config/arn.js'
import { DeployError } from '../config/errors.js'

/** Tag on every preview rule this action creates; its value is the fleet the rule sends to. */
export const PREVIEW_TAG = 'bluegreen:preview'

// ALB's own limits: rule priorities, match evaluations per rule.
export const PRIORITY_MAX = 50_000
const EVALUATIONS_PER_RULE = 5

/** The preview route as the summary shows it: the header, its rules, and whether they are open. */
export interface PreviewReport {
  header: string
  value: string
  fleet: string
  /** planned (dry run), open, removed, or left (could not be removed: see the warning). */
  state: 'planned' | 'open' | 'removed' | 'left'
  rules: PreviewRuleReport[]
}

export interface PreviewRuleReport {
  listenerArn: string
  routeArn: string
  priority: number
  ruleArn?: string
  /** A request that reaches the new fleet through this rule; absent when the listener was not read. */
  curl?: string
}

/** One route of the pair (a listener's default action or a rule) and its listener's rules. */
export interface PreviewedRoute {
  kind: 'listener' | 'rule'
  /** The listener ARN, or the rule ARN. */
  arn: string
  listenerArn: string
  /** Every rule of the listener as DescribeRules lists them, the default rule included. */
  listenerRules: Rule[]
}

/** A preview rule to create (or, in a dry run, that would be created). */
export interface PreviewRulePlan {
  listenerArn: string
  /** The route it stands in for: requests with the header go where this route's pair would send them. */
  routeArn: string
  priority: number
  conditions: RuleCondition[]
  actions: Action[]
  transforms?: RuleTransform[]
}

export interface PreviewPlanInput {
  routes: PreviewedRoute[]
  header: string
  /** The header's value: the version on the new fleet. */
  value: string
  newFleet: string
  /** The priority the user asked for (preview-priority). */
  priority?: number
  /** Earlier preview rules of the pair, removed before these are created: their priorities are free. */
  replaced?: string[]
}

/**
 * A rule per route: the route's own conditions plus `header: value`, forwarding to the new fleet
 * only, placed right before the route it stands in for. There every other rule keeps its place, so
 * a request with the header goes where it would have gone without it, except that the pair is
 * replaced by the new fleet: a path another rule serves still reaches that rule.
 */
export function planPreviewRules(input: PreviewPlanInput): PreviewRulePlan[] {
  const perListener = new Map<string, number>()
  for (const route of input.routes) perListener.set(route.listenerArn, (perListener.get(route.listenerArn) ?? 0) + 1)
  if (input.priority !== undefined && [...perListener.values()].some((n) => n > 1)) {
    throw new DeployError(
      `preview-priority ${input.priority} cannot serve two routes of one listener (each needs its own rule); leave preview-priority empty to take free priorities`
    )
  }
  const taken = new Map<string, Set<number>>()
  return input.routes.map((route) => {
    const occupied = taken.get(route.listenerArn) ?? occupiedPriorities(route.listenerRules, input.replaced)
    taken.set(route.listenerArn, occupied)
    const previewed = previewedRule(route)
    const priority = choosePriority(route, previewed, occupied, input.priority)
    occupied.add(priority)
    return {
      listenerArn: route.listenerArn,
      routeArn: route.arn,
      priority,
      conditions: previewConditions(route, previewed, input.header, input.value),
      actions: previewActions(route, previewed, input.newFleet),
      ...(previewed?.Transforms?.length ? { transforms: previewed.Transforms } : {})
    }
  })
}

/** Priorities in use on a listener, not counting earlier preview rules (they are removed first). */
export function occupiedPriorities(rules: Rule[], replaced: string[] = []): Set<number> {
  return new Set(
    rules
      .filter((r) => !r.IsDefault && !replaced.includes(r.RuleArn ?? ''))
      .map((r) => Number(r.Priority))
      .filter((p) => Number.isInteger(p))
  )
}

function previewedRule(route: PreviewedRoute): Rule | undefined {
  if (route.kind === 'listener') return undefined
  const rule = route.listenerRules.find((r) => r.RuleArn === route.arn)
  if (!rule) {
    throw new DeployError(
      `Rule ${routeLabel(route.arn)} is not among its listener's rules; check rule-arns, then run again`
    )
  }
  return rule
}

/**
 * A listener's default action is reached after every rule, so its preview rule comes after every
 * rule too: the highest priority, leaving the numbers people use free meanwhile. A rule's preview
 * comes right before it, so that no rule between gets skipped by requests with the header.
 */
export function choosePriority(
  route: PreviewedRoute,
  previewed: Rule | undefined,
  occupied: Set<number>,
  requested?: number
): number {
  const where = route.kind === 'listener' ? `listener ${routeLabel(route.arn)}` : `rule ${routeLabel(route.arn)}`
  if (requested !== undefined) {
    if (occupied.has(requested)) {
      throw new DeployError(
        `preview-priority ${requested} is taken on the listener of ${where}; give a free priority, or leave preview-priority empty to take one`
      )
    }
    if (previewed && requested >= Number(previewed.Priority)) {
      throw new DeployError(
        `preview-priority ${requested} comes after ${where} (priority ${previewed.Priority}), which would answer the requests first; give a priority below ${previewed.Priority}`
      )
    }
    return requested
  }
  if (!previewed) {
    const highest = Math.max(0, ...occupied)
    if (highest >= PRIORITY_MAX) {
      throw new DeployError(
        `The ${where} has a rule at priority ${PRIORITY_MAX}, so no preview rule can come after every rule; give preview-priority`
      )
    }
    return PRIORITY_MAX
  }
  const own = Number(previewed.Priority)
  const before = Math.max(0, ...[...occupied].filter((p) => p < own))
  if (own - 1 <= before) {
    throw new DeployError(
      `No free priority right before ${where} (priority ${own}; ${before} is taken), where its preview rule must go; leave a gap before it, or give preview-priority`
    )
  }
  return own - 1
}

/** The route's own conditions (a rule's; none for a listener's default) and the header. */
export function previewConditions(
  route: PreviewedRoute,
  previewed: Rule | undefined,
  header: string,
  value: string
): RuleCondition[] {
  const own = (previewed?.Conditions ?? []).map(copyCondition)
  const evaluations = own.reduce((sum, c) => sum + evaluationsOf(c), 0)
  if (evaluations + 1 > EVALUATIONS_PER_RULE) {
    throw new DeployError(
      `Rule ${routeLabel(route.arn)} already has ${evaluations} match evaluations; its preview rule needs one more and ALB allows ${EVALUATIONS_PER_RULE} a rule: drop preview-header for this route`
    )
  }
  return [...own, { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: header, Values: [value] } }]
}

/**
 * The route's actions with the forward sent to the new fleet only. An authentication step is kept,
 * so the preview asks for the same login as the route. OIDC cannot be copied: AWS never returns
 * its client secret, and a preview without the login would open the new version to anyone.
 */
export function previewActions(route: PreviewedRoute, previewed: Rule | undefined, newFleet: string): Action[] {
  const actions =
    previewed?.Actions ?? route.listenerRules.find((r) => r.IsDefault)?.Actions ?? ([{ Type: 'forward' }] as Action[])
  return actions.map((action) => {
    if (action.Type === 'authenticate-oidc') {
      throw new DeployError(
        `${route.kind === 'listener' ? 'Listener' : 'Rule'} ${routeLabel(route.arn)} signs users in with OIDC; a preview rule would need the client secret, which AWS never returns, and without the sign-in it would open ${targetGroupName(newFleet)} to anyone: drop preview-header`
      )
    }
    if (action.Type !== 'forward') return action
    return {
      Type: 'forward',
      ...(action.Order !== undefined ? { Order: action.Order } : {}),
      ForwardConfig: { TargetGroups: [{ TargetGroupArn: newFleet, Weight: 1 }] }
    }
  })
}

function copyCondition(condition: RuleCondition): RuleCondition {
  // Describe returns host and path values twice (legacy Values and the Config); write one form.
  const { Values, ...rest } = condition
  const hasConfig = Object.keys(rest).some((key) => key.endsWith('Config'))
  if (hasConfig || !Values) return rest
  if (condition.Field === 'host-header') return { ...rest, HostHeaderConfig: { Values } }
  if (condition.Field === 'path-pattern') return { ...rest, PathPatternConfig: { Values } }
  return condition
}

function evaluationsOf(condition: RuleCondition): number {
  const configs = [
    condition.HostHeaderConfig,
    condition.PathPatternConfig,
    condition.HttpHeaderConfig,
    condition.HttpRequestMethodConfig,
    condition.SourceIpConfig,
    condition.QueryStringConfig
  ]
  const inConfigs = configs.reduce(
    (sum, config) =>
      sum +
      (config?.Values?.length ?? 0) +
      ((config as { RegexValues?: string[] } | undefined)?.RegexValues?.length ?? 0),
    0
  )
  return Math.max(1, inConfigs + (condition.RegexValues?.length ?? 0))
}

/** Where a tester sends the preview request: the listener as AWS describes it. */
export interface ListenerAddress {
  protocol?: string
  port?: number
  dnsName?: string
}

/**
 * A ready curl line for one preview rule. A host or path that the rule itself requires goes into
 * the URL (when it is a plain one), so that the request matches the rule and not just the header.
 */
export function curlLine(
  plan: Pick<PreviewRulePlan, 'conditions'>,
  address: ListenerAddress,
  header: string,
  value: string
): string {
  const https = address.protocol === 'HTTPS'
  const defaultPort = https ? 443 : 80
  const host = plainValue(plan.conditions, 'host-header', /^[A-Za-z0-9.-]+$/)
  const path = plainValue(plan.conditions, 'path-pattern', /^\/[A-Za-z0-9_./~-]*$/)
  const port = host || !address.port || address.port === defaultPort ? '' : `:${address.port}`
  const target = host ?? address.dnsName ?? 'LOAD-BALANCER-DNS-NAME'
  return `curl -H '${header}: ${value}' ${https ? 'https' : 'http'}://${target}${port}${path ?? '/'}`
}

function plainValue(conditions: RuleCondition[], field: string, safe: RegExp): string | undefined {
  const condition = conditions.find((c) => c.Field === field)
  const values = condition?.HostHeaderConfig?.Values ?? condition?.PathPatternConfig?.Values ?? condition?.Values ?? []
  const value = values[0]
  if (values.length !== 1 || !value) return undefined
  // A wildcard pattern gives its plain prefix; `/api/*` becomes `/api/`.
  const plain = value.split(/[*?]/)[0]
  if (field === 'host-header' && plain !== value) return undefined
  return safe.test(plain) ? plain : undefined
}

/** The new fleet a rule previews, when it is one of this action's preview rules for the pair. */
export function previewedFleet(tags: Record<string, string>, pair: readonly string[]): string | undefined {
  const fleet = tags[PREVIEW_TAG]
  return fleet && pair.includes(fleet) ? fleet : undefined
}

/** A rule that could be one of this action's previews: header condition, forwards to one group. */
export function mayBePreviewRule(rule: Rule, pair: readonly string[]): boolean {
  if (rule.IsDefault) return false
  const forward = rule.Actions?.find((a) => a.Type === 'forward')
  const groups = forward?.ForwardConfig?.TargetGroups?.map((g) => g.TargetGroupArn) ?? [forward?.TargetGroupArn]
  return (
    (rule.Conditions ?? []).some((c) => c.Field === 'http-header') &&
    groups.length === 1 &&
    pair.includes(groups[0] ?? '')
  )
}

/** The listener a route belongs to: itself, or the listener in a rule's ARN. */
export function listenerOfRoute(route: { kind: 'listener' | 'rule'; arn: string }): string {
  return route.kind === 'listener'
    ? route.arn
    : route.arn.replace(':listener-rule/', ':listener/').replace(/\/[^/]+$/, '')
}
