import type { InstanceHealth } from '../aws/elbv2.js'
import { targetGroupName } from '../config/arn.js'
import { DeployError } from '../config/errors.js'
import { describeTargets } from './target-health.js'
import { describeWeights, type TrafficState } from './traffic-state.js'

/** What a rollback decides from: where traffic is, each fleet's recorded role and its health. */
export interface RollbackView {
  traffic: TrafficState
  fleets: Record<string, { record: { role?: string; version?: string }; instances: InstanceHealth[] }>
}

/** Which fleet traffic goes back to, and from which; refuses when that would not be safe. */
export function chooseRollbackTarget(
  found: RollbackView,
  /** A previous fleet that will be scaled back and waited for until healthy before it gets traffic. */
  bringingBack?: string
): { target: string; from: string; why: string } {
  const { traffic, fleets } = found
  const other = (arn: string) => traffic.pair.find((a) => a !== arn) as string
  if (!traffic.percent || traffic.mixed) {
    // Mid-canary or split routes: the stable fleet is the one recorded live, or failing that the one not in canary.
    const stable =
      traffic.pair.find((arn) => fleets[arn].record.role === 'live') ??
      traffic.pair.find((arn) => fleets[other(arn)].record.role === 'canary')
    if (!stable) {
      throw new DeployError(
        `Traffic is split (${traffic.routes.map((r) => describeWeights(r.weights)).join(' vs ')}) and no record says which fleet is stable; set the weights by hand or deploy with blue-target-group-arn and green-target-group-arn`
      )
    }
    return { target: stable, from: other(stable), why: `canary of ${targetGroupName(other(stable))} undone` }
  }
  const previous = traffic.idle as string
  const record = fleets[previous].record
  // A canary staged at 0% is not the previous release: rolling back drops it, traffic stays.
  if (record.role === 'canary') {
    return { target: other(previous), from: previous, why: `staged canary of ${targetGroupName(previous)} dropped` }
  }
  if (isFailedRole(record.role)) {
    throw new DeployError(
      `${targetGroupName(previous)} holds a failed deploy${record.version ? ` of ${record.version}` : ''}, not the previous release; deploy the version you want instead`
    )
  }
  if (previous === bringingBack) return { target: previous, from: other(previous), why: 'back to the previous release' }
  const instances = fleets[previous].instances
  const unhealthy = instances.filter((t) => t.state !== 'healthy')
  if (instances.length === 0 || unhealthy.length > 0) {
    throw new DeployError(
      `The previous fleet ${targetGroupName(previous)} is not healthy (${instances.length === 0 ? 'no registered targets' : describeTargets(unhealthy)}); traffic stays on ${targetGroupName(other(previous))}: fix or redeploy the previous version first`
    )
  }
  return { target: previous, from: other(previous), why: `back to the previous release` }
}

/** A fleet whose deploy failed or never finished: not a release to go back to. */
export function isFailedRole(role: string | undefined): boolean {
  return role === 'failed' || role === 'deploying'
}
