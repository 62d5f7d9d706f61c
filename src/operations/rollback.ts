import { targetGroupName } from '../config/arn.js'
import type { Config } from '../config/inputs.js'
import { DeployError } from '../config/errors.js'
import { judgeRollbackPastContract } from '../plan/contract-guard.js'
import { chooseRollbackTarget, isFailedRole } from '../plan/rollback-target.js'
import type { FleetRecord } from '../records/fleet-records.js'
import { writeRecord } from '../records/write-records.js'
import type { RunReport } from '../report/report.js'
import type { RunContext } from '../runtime/context.js'
import { restoreTraffic } from '../traffic/restore.js'
import { findPreview } from './around-traffic.js'
import { type Discovery, discover } from './discover.js'
import { targetHealth } from '../aws/elbv2.js'
import { formatDuration } from '../config/duration.js'
import { detectOrAssumePlain, groupsReport } from '../fleet/auto-scaling.js'
import { bringBack } from '../fleet/retired-fleet.js'
import { type ComeBackDecision, fleetCapacity, type FleetGroups, planComeBack } from '../plan/auto-scaling.js'
import { readFleetParameters } from '../records/fleet-parameters.js'
import { OperationRun, withThePair } from './lifecycle.js'

/**
 * `operation: rollback`: all traffic back on the previous fleet in one verified write. From a
 * paused or stuck canary that is the stable fleet; after a finished deploy it is the fleet that
 * was live before, once its targets are checked healthy.
 */
export async function rollback(config: Config, ctx: RunContext): Promise<RunReport> {
  const run = new OperationRun(config, ctx)
  const found = await discover(config, ctx.clients.elb, ctx.routesAtStart)
  // A previous fleet that was retired (or shrunk) comes back first: scaled, then healthy.
  const comeBack = await retiredFleetToBringBack(ctx, config, found)
  const { target, from, why } = chooseRollbackTarget(found, comeBack?.fleet.targetGroupArn)
  // Sending users back to code the data no longer fits could turn a bad release into an outage.
  if (target !== found.traffic.live) {
    try {
      const { warning } = judgeRollbackPastContract(
        { arn: from, version: found.fleets[from].record.version, contract: found.fleets[from].contract },
        { arn: target, version: found.fleets[target].record.version },
        config.allowRollbackPastContract
      )
      if (warning) {
        ctx.log.warning(warning)
        run.report.warnings.push(warning)
      }
    } catch (refusal) {
      if (!(refusal instanceof DeployError)) throw refusal
      return run.end(found, { routes: found.routes }, 'failed', refusal.message)
    }
  }
  // A paused canary's preview goes with it.
  const preview = await findPreview(run, found)
  const restore = Object.fromEntries(found.routes.map((r) => [r.arn, { [target]: 100, [from]: 0 }]))
  Object.assign(run.report.outputs, { live: from, idle: target })
  const first = comeBack ? `${comeBack.plan}, then ` : ''
  ctx.log.info(`Rollback: ${why}; ${first}all traffic to ${targetGroupName(target)}`)
  if (config.dryRun)
    return run.dryRun(
      found,
      `Dry run: would ${first}put all traffic on ${targetGroupName(target)} (${why}); nothing was changed`
    )

  // Forced: a rollback is how a person stops the bleeding, also when the run holding the lock died.
  return withThePair(run, found, { operation: 'rollback', trafficMoved: false, force: true, preview }, async () => {
    const back = comeBack ? await bringBackForRollback(run, found, comeBack) : undefined
    const startedAt = ctx.clock.now()
    const routes = await restoreTraffic(ctx, found.routes, { pair: found.traffic.pair, restore }, run.report.warnings)
    run.report.timeline.push({
      step: 1,
      weight: 0,
      startedAt,
      heldMs: 0,
      outcome: 'restored',
      checks: [`all traffic on ${targetGroupName(target)}, read back`]
    })
    const records: Record<string, FleetRecord> = {
      [target]: { ...found.fleets[target].record, role: 'live' },
      // A canary that was rolled back is not a fleet to return to; a finished deploy is.
      [from]: {
        ...found.fleets[from].record,
        role: found.traffic.live === from && !isFailedRole(found.fleets[from].record.role) ? 'previous' : 'failed'
      }
    }
    await writeRecord(ctx, target, records[target])
    await writeRecord(ctx, from, records[from])
    Object.assign(run.report.outputs, { live: target, idle: from, previous: from })
    const version = records[target].version ? ` (${records[target].version})` : ''
    return run.end(
      found,
      { routes, records },
      'rolled-back',
      `Rolled back: all traffic on ${targetGroupName(target)}${version}, ${why}${back ? `; ${back}` : ''}`
    )
  })
}

/** A previous fleet to scale back before the flip: what to do, and the line that says so. */
interface ComeBack {
  fleet: FleetGroups
  decision: Exclude<ComeBackDecision, { kind: 'refuse' }>
  plan: string
}

/**
 * The previous fleet, when it is one Auto Scaling group that cannot take traffic now (retired,
 * or shrunk) and holds no failed deploy. A healthy previous fleet is rolled back to at once, as
 * before, without a call to Auto Scaling.
 */
async function retiredFleetToBringBack(
  ctx: RunContext,
  config: Config,
  found: Discovery
): Promise<ComeBack | undefined> {
  const { traffic } = found
  if (!traffic.percent || traffic.mixed || !traffic.live || !traffic.idle) return undefined
  const previous = found.fleets[traffic.idle]
  const healthy = previous.instances.length > 0 && previous.instances.every((t) => t.state === 'healthy')
  if (healthy || isFailedRole(previous.record.role)) return undefined
  const ids = (arn: string) => found.fleets[arn].instances.map((t) => t.id)
  const [idle] = await detectOrAssumePlain(
    ctx.clients.autoScaling,
    [{ targetGroupArn: traffic.idle, registeredIds: ids(traffic.idle) }],
    ctx.log
  )
  if (idle.groups.length !== 1) return undefined
  const [[live], parameters] = await Promise.all([
    detectOrAssumePlain(
      ctx.clients.autoScaling,
      [{ targetGroupArn: traffic.live, registeredIds: ids(traffic.live) }],
      ctx.log
    ),
    readFleetParameters(ctx.clients.ssm, config.parameterPrefix, [traffic.idle])
  ])
  const retired = parameters.get(traffic.idle)?.retired
  previous.autoScaling = groupsReport(idle, retired)
  const decision = planComeBack(idle, fleetCapacity(live), retired)
  if (decision.kind === 'refuse') throw new DeployError(`${decision.message}; traffic stays where it is`)
  const group = idle.groups[0].name
  const plan =
    decision.kind === 'scale'
      ? `scale ${group} from ${decision.from} to ${decision.to.desiredCapacity} instances and wait until they are healthy`
      : `wait until the instances of ${group} are healthy`
  return { fleet: idle, decision, plan }
}

/** Scales the previous fleet back and waits for it; says how long that took. */
async function bringBackForRollback(run: OperationRun, found: Discovery, comeBack: ComeBack): Promise<string> {
  const { ctx, config } = run
  const group = comeBack.fleet.groups[0].name
  const arn = comeBack.fleet.targetGroupArn
  const budget = Math.min(config.healthTimeoutMs, run.deadline - ctx.clock.now())
  const { readyAfterMs } = await bringBack(ctx, config, comeBack.fleet, comeBack.decision, budget)
  found.fleets[arn].instances = await targetHealth(ctx.clients.elb, arn)
  const scaled = comeBack.decision.kind === 'scale' ? comeBack.decision : undefined
  run.report.autoScaling = {
    group,
    suspended: [],
    leftAlone: [],
    ...(scaled
      ? { scaled: { from: scaled.from, to: scaled.to.desiredCapacity, why: 'the rollback', readyAfterMs } }
      : {})
  }
  const took = formatDuration(readyAfterMs)
  const line = scaled
    ? `${group} was scaled from ${scaled.from} to ${scaled.to.desiredCapacity} instances and healthy in ${took}`
    : `${group} was healthy after ${took}`
  ctx.log.info(line)
  return line
}
