import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import { type InstanceHealth, targetHealth } from '../aws/elbv2.js'
import { targetGroupName } from '../config/arn.js'
import { describeTargets, type HealthCadence } from '../plan/target-health.js'
import type { Clock } from '../runtime/clock.js'
import { DeployError } from '../config/errors.js'
import type { Log } from '../runtime/log.js'

export interface WaitHealthyOptions {
  instanceIds: string[]
  cadence: HealthCadence
  timeoutMs: number
  clock: Clock
  log: Log
  signal?: AbortSignal
  /** Poll interval; defaults to a quarter of the health check interval, between 250 ms and 5 s. */
  pollMs?: number
}

/**
 * Waits until every given target is healthy *on the new code*. Targets of the idle fleet were
 * healthy before the deploy too, so "healthy" only counts once the load balancer has had time to
 * check the restarted app often enough to mark it unhealthy (detectUnhealthyMs). A target that
 * stays unhealthy longer than it would need to recover fails the wait at once, with its reason,
 * instead of burning the whole health-timeout (the SDK waiter would retry to the end).
 */
export async function waitHealthy(
  elb: ElasticLoadBalancingV2Client,
  targetGroupArn: string,
  options: WaitHealthyOptions
): Promise<InstanceHealth[]> {
  const { clock, cadence, instanceIds } = options
  const started = clock.now()
  const pollMs = options.pollMs ?? Math.min(5000, Math.max(250, cadence.intervalMs / 4))
  const unhealthySince = new Map<string, number>()
  const name = targetGroupName(targetGroupArn)
  let lastLine = ''
  for (;;) {
    const health = await targetHealth(elb, targetGroupArn)
    const now = clock.now()
    const byId = new Map(health.map((h) => [h.id, h]))
    const missing = instanceIds.filter((id) => !byId.has(id))
    if (missing.length > 0) {
      throw new DeployError(
        `Instance${missing.length > 1 ? 's' : ''} ${missing.slice(0, 10).join(', ')} left target group ${name} during the deploy; register the fleet again and redeploy`
      )
    }
    const targets = instanceIds.map((id) => byId.get(id) as InstanceHealth)
    const failing = targets.filter((t) => ['draining', 'unavailable', 'unused'].includes(t.state))
    if (failing.length > 0) {
      throw new DeployError(
        `${describeTargets(failing)} in ${name}; the new fleet cannot take traffic (health checks must be enabled and the group in the forward action)`
      )
    }
    for (const t of targets) {
      if (t.state === 'unhealthy') unhealthySince.set(t.id, unhealthySince.get(t.id) ?? now)
      else unhealthySince.delete(t.id)
    }
    const stuck = targets.filter(
      (t) => now - (unhealthySince.get(t.id) ?? now) > cadence.detectHealthyMs + cadence.intervalMs
    )
    if (stuck.length > 0) {
      throw new DeployError(
        `${describeTargets(stuck)} in ${name} after the deploy; fix the new version (see the command output and the app's logs) and deploy again`
      )
    }
    const healthy = targets.filter((t) => t.state === 'healthy').length
    options.log.debug(`poll: ${targets.map((t) => `${t.id} ${t.state}`).join(', ')}`)
    const line = `${name}: ${healthy}/${targets.length} targets healthy`
    if (line !== lastLine) options.log.info(line)
    lastLine = line
    if (healthy === targets.length && now - started >= cadence.detectUnhealthyMs) return targets
    if (now - started >= options.timeoutMs && healthy === targets.length) {
      // Healthy targets are not yet proof of the new code: the load balancer has not checked it
      // often enough to mark a failing target unhealthy, so the wait cannot succeed in this time.
      const s = (ms: number) => `${Math.round(ms / 1000)}s`
      const checks = Math.round(cadence.detectUnhealthyMs / cadence.intervalMs)
      throw new DeployError(
        `Every target of ${name} is healthy, but health-timeout (${s(options.timeoutMs)}) ends before the load balancer could have marked a failing target unhealthy (${s(cadence.detectUnhealthyMs)}: ${checks} checks ${s(cadence.intervalMs)} apart); raise health-timeout to at least ${s(cadence.detectUnhealthyMs)}`
      )
    }
    if (now - started >= options.timeoutMs) {
      const notHealthy = targets.filter((t) => t.state !== 'healthy')
      throw new DeployError(
        `Not every target of ${name} was healthy after health-timeout (${Math.round(options.timeoutMs / 1000)}s): ${describeTargets(notHealthy)}; raise health-timeout if the app needs longer to start, or fix the new version`
      )
    }
    // All healthy but not yet checked long enough on the new code: look again exactly when the
    // minimum is reached rather than a whole poll later, which would only add to the deploy's time.
    const untilMinimum = started + cadence.detectUnhealthyMs - now
    await clock.sleep(
      healthy === targets.length && untilMinimum > 0 ? Math.min(pollMs, untilMinimum) : pollMs,
      options.signal
    )
  }
}
