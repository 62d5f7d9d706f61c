// ARN and id formats as AWS issues them, so code under test that parses ARNs sees real shapes.

import { createHash, randomBytes, randomUUID } from 'node:crypto'
import type { World } from '../world.js'

export const hex = (bytes: number): string => randomBytes(bytes).toString('hex')

const elbPrefix = (world: World): string => `arn:aws:elasticloadbalancing:${world.region}:${world.accountId}`

export const loadBalancerArn = (world: World, name: string, id = hex(8)): string =>
  `${elbPrefix(world)}:loadbalancer/app/${name}/${id}`

export const targetGroupArn = (world: World, name: string, id = hex(8)): string =>
  `${elbPrefix(world)}:targetgroup/${name}/${id}`

/** `...:loadbalancer/app/web/50dc..` -> `...:listener/app/web/50dc../f2f7..` */
export const listenerArn = (lbArn: string, id = hex(8)): string =>
  `${lbArn.replace(':loadbalancer/', ':listener/')}/${id}`

export const ruleArn = (lsnArn: string, id = hex(8)): string =>
  `${lsnArn.replace(':listener/', ':listener-rule/')}/${id}`

/**
 * The default rule AWS keeps for every listener. The sandbox stores default actions on the
 * listener only, so the rule's id is derived from the listener ARN to stay stable across calls.
 */
export const defaultRuleArn = (lsnArn: string): string =>
  ruleArn(lsnArn, createHash('sha256').update(lsnArn).digest('hex').slice(0, 16))

export const alarmArn = (world: World, name: string): string =>
  `arn:aws:cloudwatch:${world.region}:${world.accountId}:alarm:${name}`

export const autoScalingGroupArn = (world: World, name: string): string =>
  `arn:aws:autoscaling:${world.region}:${world.accountId}:autoScalingGroup:${randomUUID()}:autoScalingGroupName/${name}`

export const instanceId = (): string => `i-0${hex(8).slice(0, 16)}`

export type ElbResourceKind = 'loadbalancer' | 'listener' | 'listener-rule' | 'targetgroup' | 'unknown'

export function elbResourceKind(arn: string): ElbResourceKind {
  const m =
    /^arn:aws[\w-]*:elasticloadbalancing:[\w-]+:\d{12}:(loadbalancer|listener|listener-rule|targetgroup)\//.exec(arn)
  return m ? (m[1] as ElbResourceKind) : 'unknown'
}

/** Listener ARN a rule ARN belongs to. */
export const listenerOfRule = (rArn: string): string =>
  rArn.replace(':listener-rule/', ':listener/').replace(/\/[0-9a-f]+$/, '')

/** Load balancer ARN a listener ARN belongs to. */
export const loadBalancerOfListener = (lArn: string): string =>
  lArn.replace(':listener/', ':loadbalancer/').replace(/\/[0-9a-f]+$/, '')
