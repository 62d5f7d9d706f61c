import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import { type InstanceHealth, targetHealth } from '../../aws/elbv2.js'
import { targetGroupName } from '../../config/arn.js'
import { describeTargets } from '../../plan/target-health.js'
import type { CheckLook, HoldCheck, HoldSubject } from './check.js'

/** Every instance that took the deploy stays registered in the new fleet and healthy. */
export function targetHealthCheck(elb: ElasticLoadBalancingV2Client): HoldCheck {
  return {
    name: 'target health',
    describe: ['every target of the new fleet healthy'],
    look: async (subject) => judgeTargetHealth(subject, await targetHealth(elb, subject.newFleet))
  }
}

export function judgeTargetHealth(subject: HoldSubject, health: InstanceHealth[]): CheckLook {
  const targets = health.filter((t) => subject.instanceIds.includes(t.id))
  const bad = targets.filter((t) => t.state !== 'healthy')
  if (bad.length > 0) return { ok: false, line: `${describeTargets(bad)} in ${targetGroupName(subject.newFleet)}` }
  if (targets.length < subject.instanceIds.length)
    return { ok: false, line: `targets left ${targetGroupName(subject.newFleet)}` }
  return { ok: true, line: `${targets.length}/${subject.instanceIds.length} targets healthy` }
}
