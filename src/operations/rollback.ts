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
import { OperationRun, withThePair } from './lifecycle.js'

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
  let planned: Decision
  try {
    planned = decide(run, first)
  } catch (refusal) {
    if (!(refusal instanceof RefusedPastContract)) throw refusal
    return run.end(first, { routes: first.routes }, 'failed', refusal.message)
  }
  // A paused canary's preview goes with it.
  const preview = await findPreview(run, first)
  Object.assign(run.report.outputs, { live: planned.from, idle: planned.target })
  ctx.log.info(`Rollback: ${planned.why}; all traffic to ${targetGroupName(planned.target)}`)
  if (config.dryRun)
    return run.dryRun(
      first,
      `Dry run: would put all traffic on ${targetGroupName(planned.target)} (${planned.why}); nothing was changed`
    )

  // Forced: a rollback is how a person stops the bleeding, also when the run holding the lock died.
  return withThePair(run, first, { operation: 'rollback', trafficMoved: false, force: true, preview }, async (pair) => {
    const c = pair.ctx
    // Decided again under the lock: the run that held it may have moved traffic (or recorded a
    // deploy) before it noticed the take-over.
    const found = await discover(config, c.clients.elb)
    refuseProblems(found)
    let decision: Decision
    try {
      decision = decide(run, found)
    } catch (refusal) {
      if (!(refusal instanceof RefusedPastContract)) throw refusal
      return run.end(found, { routes: found.routes }, 'failed', refusal.message)
    }
    const { target, from, why } = decision
    if (target !== planned.target) c.log.warning(`Traffic moved while the lock was taken: ${why} instead`)
    const restore = Object.fromEntries(found.routes.map((r) => [r.arn, { [target]: 100, [from]: 0 }]))
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
      `Rolled back: all traffic on ${targetGroupName(target)}${version}, ${why}`
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
function decide(run: OperationRun, found: Discovery): Decision {
  const decision = chooseRollbackTarget(found)
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
