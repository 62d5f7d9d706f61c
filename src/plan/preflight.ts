// Settings that cannot work, found from what discovery read and refused before anything changes:
// each would otherwise fail, or do harm, only after the commands ran or the traffic moved.
import type { Route } from '../aws/elbv2.js'
import { routeLabel, targetGroupName } from '../config/arn.js'
import { formatDuration } from '../config/duration.js'
import { InputError } from '../config/errors.js'
import type { Pair } from './forward-action.js'
import type { HealthCadence } from './target-health.js'

/** The target groups a route forwards to; none when its action is not a forward. */
export function forwardTargets(route: Route): string[] {
  const forward = route.actions.find((a) => a.Type === 'forward')
  if (!forward) return []
  const groups = forward.ForwardConfig?.TargetGroups ?? []
  const arns = groups.map((g) => g.TargetGroupArn ?? '')
  if (forward.TargetGroupArn) arns.push(forward.TargetGroupArn)
  return [...new Set(arns.filter(Boolean))]
}

/**
 * A listener's default rule given in rule-arns: ModifyRule cannot change it (AWS answers
 * OperationNotPermitted), so the deploy would fail at its first shift, after the commands ran.
 */
export function defaultRuleProblem(listed: Route[]): InputError | undefined {
  const rule = listed.find((r) => r.kind === 'rule' && r.isDefault)
  if (!rule) return undefined
  return new InputError(
    'rule-arns',
    rule.arn,
    "accepted: listener rules other than a listener's default rule (ModifyRule cannot change a default rule): give that listener's ARN in listener-arns instead"
  )
}

/**
 * Every other route of the load balancers that forwards to either group of the pair. Left as they
 * are, they would keep sending traffic to the fleet a flip just left, and a later deploy would run
 * its commands on a fleet they still send traffic to.
 */
export function unlistedRoutes(all: Route[], listed: Route[], pair: Pair, exempt: string[] = []): Route[] {
  const given = new Set([...listed.map((r) => r.arn), ...exempt])
  return all.filter((route) => !given.has(route.arn) && forwardTargets(route).some((arn) => pair.includes(arn)))
}

/** `exempt`: routes that forward to the pair by design (this action's own preview rules). */
export function unlistedRoutesProblem(
  all: Route[],
  listed: Route[],
  pair: Pair,
  given: { listenerArns: string[]; ruleArns: string[] },
  exempt: string[] = []
): InputError | undefined {
  const missing = unlistedRoutes(all, listed, pair, exempt)
  if (missing.length === 0) return undefined
  const input = missing.some((r) => r.kind === 'listener') ? 'listener-arns' : 'rule-arns'
  const value = (input === 'listener-arns' ? given.listenerArns : given.ruleArns).join(',')
  const names = pair.map(targetGroupName).join(' or ')
  const shown = missing
    .slice(0, 5)
    .map((r) => `${routeLabel(r.arn)} (${r.arn})`)
    .join(', ')
  const more = missing.length > 5 ? ` and ${missing.length - 5} more` : ''
  return new InputError(
    input,
    value,
    `accepted: every listener and rule that forwards to ${names}; these forward to them too and are missing: ${shown}${more}. Add them to listener-arns or rule-arns: a shift that left them would keep them sending traffic to the fleet it left`
  )
}

/**
 * The health wait counts a target healthy on the new code only once the load balancer has had
 * time to mark a restarted app unhealthy (interval × unhealthy threshold): a health-timeout
 * shorter than that can never be met, and would fail only after the commands ran.
 */
export function minimumHealthTimeoutMs(cadence: HealthCadence): number {
  return cadence.detectUnhealthyMs
}

export function healthTimeoutProblem(
  healthTimeoutMs: number,
  cadence: HealthCadence,
  group: string
): InputError | undefined {
  const minimum = minimumHealthTimeoutMs(cadence)
  if (healthTimeoutMs >= minimum) return undefined
  const threshold = Math.round(cadence.detectUnhealthyMs / cadence.intervalMs)
  return new InputError(
    'health-timeout',
    formatDuration(healthTimeoutMs),
    `accepted: at least ${formatDuration(minimum)}, the time ${targetGroupName(group)}'s health checks take to mark a restarted target unhealthy (interval ${formatDuration(cadence.intervalMs)} × unhealthy threshold ${threshold}); the wait for health on the new code cannot be shorter`
  )
}
