import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import { describeTargetGroups, type InstanceHealth, readRoutes, readTags, targetHealth } from '../aws/elbv2.js'
import { targetGroupName } from '../config/arn.js'
import type { Config } from '../config/inputs.js'
import type { Route } from '../aws/elbv2.js'
import { type HealthCadence, healthCadence } from '../plan/target-health.js'
import { readTrafficState, type TrafficState } from '../plan/traffic-state.js'
import { type Contract, currentContract } from '../plan/contract-guard.js'
import { CONTRACT_TAG, decodeContract } from '../records/contract-record.js'
import { decodeLock, type FleetRecord, type Lock, recordFromTags, TAG } from '../records/fleet-records.js'
import { DeployError } from '../config/errors.js'
import type { FleetGroupsReport } from '../report/report.js'

/** One fleet as it stands: its target group, what is recorded on it, its instances' health. */
export interface FleetView {
  arn: string
  name: string
  record: FleetRecord
  instances: InstanceHealth[]
  cadence: HealthCadence
  /** The Auto Scaling groups behind the fleet, once an operation has looked (plain fleets: none). */
  autoScaling?: FleetGroupsReport
  /** contract-commands as recorded for the deploy this fleet runs, when they ran. */
  contract?: Contract
}

/** Everything a run decides from, as read when it started. */
export interface Discovery {
  routes: Route[]
  traffic: TrafficState
  fleets: Record<string, FleetView>
  lock?: Lock
}

/** Reads everything a run decides from: routes, weights, the pair's groups, records, health. */
export async function discover(
  config: Pick<Config, 'listenerArns' | 'ruleArns' | 'pair'>,
  elb: ElasticLoadBalancingV2Client,
  routesAtStart?: Promise<Route[]>
): Promise<Discovery> {
  const routes = await (routesAtStart ?? readRoutes(elb, config.listenerArns, config.ruleArns))
  const traffic = readTrafficState(routes, config.pair)
  const [groups, tags, health] = await Promise.all([
    describeTargetGroups(elb, traffic.pair),
    readTags(elb, traffic.pair),
    Promise.all(traffic.pair.map((arn) => targetHealth(elb, arn)))
  ])
  for (const group of groups) {
    if (group.TargetType !== 'instance') {
      throw new DeployError(
        `Target group ${group.TargetGroupName} has target type ${group.TargetType}; this action deploys to EC2 instances through SSM, so both groups must use target type instance`
      )
    }
  }
  const fleets = Object.fromEntries(
    traffic.pair.map((arn, i) => {
      const record = recordFromTags(tags[arn])
      const contract = currentContract(decodeContract(tags[arn][CONTRACT_TAG]), record)
      return [
        arn,
        {
          arn,
          name: targetGroupName(arn),
          record,
          instances: health[i],
          cadence: healthCadence(groups[i]),
          ...(contract ? { contract } : {})
        }
      ]
    })
  )
  const lock = traffic.pair.map((arn) => decodeLock(tags[arn][TAG.lock])).find(Boolean)
  return { routes, traffic, fleets, lock }
}
