import type { TargetGroup } from '@aws-sdk/client-elastic-load-balancing-v2'
import type { InstanceHealth } from '../aws/elbv2.js'

/** How long the load balancer needs to notice a change, from the target group's own settings. */
export interface HealthCadence {
  intervalMs: number
  /** Time for a target whose checks now fail to be marked unhealthy. */
  detectUnhealthyMs: number
  /** Time for a target whose checks now pass to be marked healthy. */
  detectHealthyMs: number
}

/** The cadence from a group's settings; AWS's defaults (30 s, 5 healthy, 2 unhealthy) where unset. */
export function healthCadence(group: TargetGroup): HealthCadence {
  const intervalMs = (group.HealthCheckIntervalSeconds ?? 30) * 1000
  return {
    intervalMs,
    detectUnhealthyMs: intervalMs * (group.UnhealthyThresholdCount ?? 2),
    detectHealthyMs: intervalMs * (group.HealthyThresholdCount ?? 5)
  }
}

/** `i-0abc unhealthy (Target.Timeout), …`: the first few targets with their state, for messages. */
export function describeTargets(targets: InstanceHealth[]): string {
  const shown = targets.slice(0, 10).map((t) => `${t.id} ${t.state}${t.reason ? ` (${t.reason})` : ''}`)
  const more = targets.length > shown.length ? ` and ${targets.length - shown.length} more` : ''
  return `${shown.join(', ')}${more}`
}
