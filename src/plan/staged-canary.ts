import { targetGroupName } from '../config/arn.js'
import { DeployError } from '../config/errors.js'
import type { TrafficState } from './traffic-state.js'

/**
 * A canary staged at 0% (canary-steps 0): all traffic on one fleet, the other recorded as the
 * canary. It is in progress like a canary at 10%: reviewers may be about to promote it.
 */
export function stagedCanary(
  traffic: Pick<TrafficState, 'live' | 'idle' | 'mixed'>,
  fleets: Record<string, { record: { role?: string } }>
): string | undefined {
  if (traffic.mixed || !traffic.live || !traffic.idle) return undefined
  return fleets[traffic.idle]?.record.role === 'canary' ? traffic.idle : undefined
}

/**
 * A new deploy would overwrite a staged canary that an approved promote is about to finish, and
 * the promote would then ship the version nobody approved.
 */
export function refuseOverStagedCanary(
  traffic: Pick<TrafficState, 'live' | 'idle' | 'mixed'>,
  fleets: Record<string, { record: { role?: string; version?: string } }>
): void {
  const staged = stagedCanary(traffic, fleets)
  if (!staged) return
  const version = fleets[staged].record.version
  throw new DeployError(
    `A canary${version ? ` of ${version}` : ''} is staged at 0% on ${targetGroupName(staged)}; run promote to finish it or rollback to drop it, then deploy`
  )
}
