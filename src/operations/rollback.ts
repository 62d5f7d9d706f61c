import { targetGroupName } from '../config/arn.js'
import { DeployError } from '../config/errors.js'
import type { Config } from '../config/inputs.js'
import { judgeRollbackPastContract } from '../plan/contract-guard.js'
import { pairWeights } from '../plan/forward-action.js'
import { chooseRollbackTarget, isFailedRole } from '../plan/rollback-target.js'
import type { FleetRecord } from '../records/fleet-records.js'
import { writeRecord } from '../records/write-records.js'
import type { RunReport } from '../report/report.js'
import type { RunContext } from '../runtime/context.js'
import { restoreTraffic } from '../traffic/restore.js'
import { findPreview } from './around-traffic.js'
import { type Discovery, discover, pairTargetSticky, refuseProblems } from './discover.js'
import { targetHealth } from '../aws/elbv2.js'
import { formatDuration } from '../config/duration.js'
import { detectOrAssumePlain, groupsReport } from '../fleet/auto-scaling.js'
import { bringBack } from '../fleet/retired-fleet.js'
import { type ComeBackDecision, fleetCapacity, type FleetGroups, planComeBack } from '../plan/auto-scaling.js'
import { readFleetParameters } from '../records/fleet-parameters.js'
import { type HeldPair, OperationRun, withThePair } from './lifecycle.js'

/**
 * `operation: rollback`: all traffic back on the previous fleet in one verified write. From a
 * paused or stuck canary that is the stable fleet; after a finished deploy it is the fleet that
 * was live before, once its targets are checked healthy.
 */
export async function rollback(config: Config, ctx: RunContext): Promise<RunReport> {
  const run = new OperationRun(config, ctx)
  const first = await discover(config, ctx.clients.elb, ctx.routesAtStart)
  // Settings that cannot work are refused before anything changes, the dry run included; so is a
  // rollback that would not be safe as things stand.
  refuseProblems(first)
  // A previous fleet that was retired (or shrunk) comes back first: scaled, then healthy.
  const firstComeBack = await retiredFleetToBringBack(ctx, config, first)
  let planned: Decision
  try {
    planned = decide(run, first, firstComeBack)
  } catch (refusal) {
    if (!(refusal instanceof RefusedPastContract)) throw refusal
    return run.end(first, { routes: first.routes }, 'failed', refusal.message)
  }
  // A paused canary's preview goes with it.
  const preview = await findPreview(run, first)
  Object.assign(run.report.outputs, { live: planned.from, idle: planned.target })
  const bringFirst = firstComeBack ? `${firstComeBack.plan}, then ` : ''
  ctx.log.info(`Rollback: ${planned.why}; ${bringFirst}all traffic to ${targetGroupName(planned.target)}`)
  if (config.dryRun)
    return run.dryRun(
      first,
      `Dry run: would ${bringFirst}put all traffic on ${targetGroupName(planned.target)} (${planned.why}); nothing was changed`
    )

  // Forced: a rollback is how a person stops the bleeding, also when the run holding the lock died.
  return withThePair(run, first, { operation: 'rollback', trafficMoved: false, force: true, preview }, async (pair) => {
    const c = pair.ctx
    // Decided again under the lock: the run that held it may have moved traffic (or recorded a
    // deploy) before it noticed the take-over.
    const found = await discover(config, c.clients.elb)
    refuseProblems(found)
    const comeBack = await retiredFleetToBringBack(c, config, found)
    let decision: Decision
    try {
      decision = decide(run, found, comeBack)
    } catch (refusal) {
      if (!(refusal instanceof RefusedPastContract)) throw refusal
      return run.end(found, { routes: found.routes }, 'failed', refusal.message)
    }
    const { target, from, why } = decision
    if (target !== planned.target) c.log.warning(`Traffic moved while the lock was taken: ${why} instead`)
    const restore = Object.fromEntries(found.routes.map((r) => [r.arn, { [target]: 100, [from]: 0 }]))
    // Before anything is recorded for the post step: a run that dies while the fleet comes back
    // has moved no traffic and changed no record.
    const back = comeBack ? await bringBackForRollback(run, pair, found, comeBack) : undefined
    const records: Record<string, FleetRecord> = {
      [target]: { ...found.fleets[target].record, role: 'live' },
      // A canary that was rolled back is not a fleet to return to; a finished deploy is.
      [from]: {
        ...found.fleets[from].record,
        role: found.traffic.live === from && !isFailedRole(found.fleets[from].record.role) ? 'previous' : 'failed'
      }
    }
    // Should this run die half-way, its post step finishes it: the same weights, the same records.
    pair.restoreIfCut(restore)
    pair.recordsIfCut(records)
    const before = Object.fromEntries(found.routes.map((r) => [r.arn, pairWeights(r, found.traffic.pair)]))
    pair.trafficMoved(true, { before, after: restore })
    const startedAt = c.clock.now()
    const routes = await restoreTraffic(
      c,
      found.routes,
      { pair: found.traffic.pair, restore, targetSticky: pairTargetSticky(found), guard: pair.guard },
      run.report.warnings
    )
    run.report.timeline.push({
      step: 1,
      weight: 0,
      startedAt,
      heldMs: 0,
      outcome: 'restored',
      checks: [`all traffic on ${targetGroupName(target)}, read back`]
    })
    await writeRecord(c, pair.guard, target, records[target])
    await writeRecord(c, pair.guard, from, records[from])
    pair.trafficMoved(false)
    pair.recordsIfCut({})
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

interface Decision {
  target: string
  from: string
  why: string
}

class RefusedPastContract extends DeployError {}

/** Where traffic goes back to, or a refusal: the rollback rules and the contract guard. */
function decide(run: OperationRun, found: Discovery, comeBack: ComeBack | undefined): Decision {
  const decision = chooseRollbackTarget(found, comeBack?.fleet.targetGroupArn)
  const { target, from } = decision
  // Sending users back to code the data no longer fits could turn a bad release into an outage.
  if (target !== found.traffic.live) {
    try {
      const { warning } = judgeRollbackPastContract(
        { arn: from, version: found.fleets[from].record.version, contract: found.fleets[from].contract },
        { arn: target, version: found.fleets[target].record.version },
        run.config.allowRollbackPastContract
      )
      if (warning && !run.report.warnings.includes(warning)) {
        run.ctx.log.warning(warning)
        run.report.warnings.push(warning)
      }
    } catch (refusal) {
      if (refusal instanceof DeployError) throw new RefusedPastContract(refusal.message)
      throw refusal
    }
  }
  return decision
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

/**
 * Scales the previous fleet back and waits for it, under the lock (the waits renew its lease);
 * says how long that took.
 */
async function bringBackForRollback(
  run: OperationRun,
  pair: HeldPair,
  found: Discovery,
  comeBack: ComeBack
): Promise<string> {
  const { config } = run
  const c = pair.ctx
  const group = comeBack.fleet.groups[0].name
  const arn = comeBack.fleet.targetGroupArn
  const budget = Math.min(config.healthTimeoutMs, run.deadline - c.clock.now())
  const { readyAfterMs } = await bringBack(c, config, comeBack.fleet, comeBack.decision, budget, pair.guard)
  found.fleets[arn].instances = await targetHealth(c.clients.elb, arn)
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
  c.log.info(line)
  return line
}
