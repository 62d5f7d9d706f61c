import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import {
  describeTargetGroups,
  type InstanceHealth,
  readLoadBalancerRoutes,
  readRoutes,
  readTags,
  readTargetStickiness,
  targetHealth
} from '../aws/elbv2.js'
import { targetGroupName } from '../config/arn.js'
import type { Config } from '../config/inputs.js'
import type { Route } from '../aws/elbv2.js'
import { defaultRuleProblem, unlistedRoutesProblem } from '../plan/preflight.js'
import { type HealthCadence, healthCadence } from '../plan/target-health.js'
import { readTrafficState, type TrafficState } from '../plan/traffic-state.js'
import { type Contract, currentContract } from '../plan/contract-guard.js'
import { mayBePreviewRule, previewedFleet } from '../plan/preview-rule.js'
import { CONTRACT_TAG, decodeContract } from '../records/contract-record.js'
import { type FleetRecord, recordFromTags } from '../records/fleet-records.js'
import { DeployError, type InputError } from '../config/errors.js'
import type { FleetGroupsReport } from '../fleet/auto-scaling.js'

/** One fleet as it stands: its target group, what is recorded on it, its instances' health. */
export interface FleetView {
  arn: string
  name: string
  record: FleetRecord
  instances: InstanceHealth[]
  cadence: HealthCadence
  /** Target-level stickiness (attribute stickiness.enabled) is on. */
  targetSticky: boolean
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
  /**
   * Settings that cannot work with what AWS shows (a default rule in rule-arns, routes to the pair
   * that were not given): a run that changes anything refuses with the first, before any change.
   */
  problems: InputError[]
}

/** Reads everything a run decides from: routes, weights, the pair's groups, records, health. */
export async function discover(
  config: Pick<Config, 'listenerArns' | 'ruleArns' | 'pair'>,
  elb: ElasticLoadBalancingV2Client,
  routesAtStart?: Promise<Route[]>
): Promise<Discovery> {
  const firstRead = await (routesAtStart ?? readRoutes(elb, config.listenerArns, config.ruleArns))
  const defaultRule = defaultRuleProblem(firstRead)
  // The pair is found on the default rule's actions too, so that problem is reported, not a worse one.
  const firstTraffic = readTrafficState(firstRead, config.pair)
  const pair = firstTraffic.pair
  const [groups, tags, health, targetSticky] = await Promise.all([
    describeTargetGroups(elb, pair),
    readTags(elb, pair),
    Promise.all(pair.map((arn) => targetHealth(elb, arn))),
    readTargetStickiness(elb, pair)
  ])
  for (const group of groups) {
    if (group.TargetType !== 'instance') {
      throw new DeployError(
        `Target group ${group.TargetGroupName} has target type ${group.TargetType}; this action deploys to EC2 instances through SSM, so both groups must use target type instance`
      )
    }
  }
  // Every route of the load balancers that use the pair: one that forwards to it unlisted would
  // keep sending traffic where a shift no longer expects any.
  const loadBalancers = [...new Set(groups.flatMap((g) => g.LoadBalancerArns ?? []))]
  const allRoutes = await readLoadBalancerRoutes(elb, loadBalancers)
  // The given routes as this last read shows them: one snapshot, so that a run never reports (or
  // decides from) weights older than the last ones it saw.
  const routes = firstRead.map((r) => ({ ...r, actions: allRoutes.find((a) => a.arn === r.arn)?.actions ?? r.actions }))
  const traffic = readTrafficState(routes, { blue: pair[0], green: pair[1] })
  const previews = await previewRules(elb, allRoutes, pair)
  const unlisted = unlistedRoutesProblem(allRoutes, routes, traffic.pair, config, previews)
  const fleets = Object.fromEntries(
    pair.map((arn, i) => {
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
          targetSticky: targetSticky[arn],
          ...(contract ? { contract } : {})
        }
      ]
    })
  )
  return { routes, traffic, fleets, problems: [defaultRule, unlisted].filter((p): p is InputError => !!p) }
}

/**
 * This action's own preview rules (a header condition, a forward to one group of the pair, the
 * preview tag): they belong to a paused canary, not routes the run must be given.
 */
async function previewRules(elb: ElasticLoadBalancingV2Client, routes: Route[], pair: readonly string[]) {
  const candidates = routes.filter(
    (r) => r.kind === 'rule' && mayBePreviewRule({ RuleArn: r.arn, Actions: r.actions, Conditions: r.conditions }, pair)
  )
  const previews: string[] = []
  for (let i = 0; i < candidates.length; i += 20) {
    const tags = await readTags(
      elb,
      candidates.slice(i, i + 20).map((r) => r.arn)
    )
    previews.push(...Object.keys(tags).filter((arn) => previewedFleet(tags[arn], pair)))
  }
  return previews
}

/** A run that is about to change something refuses settings that cannot work, before any change. */
export function refuseProblems(found: Discovery): void {
  if (found.problems.length > 0) throw found.problems[0]
}

/** Either group of the pair has target-level stickiness on. */
export function pairTargetSticky(found: Discovery): boolean {
  return Object.values(found.fleets).some((f) => f.targetSticky)
}
