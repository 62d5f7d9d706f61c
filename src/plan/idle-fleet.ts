import { DeployError } from '../config/errors.js'
import { describeWeights, type TrafficState } from './traffic-state.js'

/** The idle fleet takes the deploy; a canary in progress or split routes must be resolved first. */
export function chooseIdleFleet(traffic: TrafficState): { newFleet: string; stableFleet: string } {
  if (!traffic.percent) {
    throw new DeployError(
      `The routes disagree (${traffic.routes.map((r) => describeWeights(r.weights)).join(' vs ')}); a deploy was interrupted: run rollback, then deploy`
    )
  }
  if (traffic.mixed || !traffic.live || !traffic.idle) {
    throw new DeployError(
      `A canary is in progress (${describeWeights(traffic.percent)}); run promote to finish it or rollback to undo it, then deploy`
    )
  }
  return { newFleet: traffic.idle, stableFleet: traffic.live }
}
