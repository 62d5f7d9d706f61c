import { targetGroupName } from '../config/arn.js'
import type { Config } from '../config/inputs.js'
import { pairWeights } from '../plan/forward-action.js'
import { chooseRollbackTarget, isFailedRole } from '../plan/rollback-target.js'
import type { FleetRecord } from '../records/fleet-records.js'
import { writeRecord } from '../records/write-records.js'
import type { RunReport } from '../report/report.js'
import type { RunContext } from '../runtime/context.js'
import { restoreTraffic } from '../traffic/restore.js'
import { discover, pairTargetSticky, refuseProblems } from './discover.js'
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
  const planned = chooseRollbackTarget(first)
  Object.assign(run.report.outputs, { live: planned.from, idle: planned.target })
  ctx.log.info(`Rollback: ${planned.why}; all traffic to ${targetGroupName(planned.target)}`)
  if (config.dryRun)
    return run.dryRun(
      first,
      `Dry run: would put all traffic on ${targetGroupName(planned.target)} (${planned.why}); nothing was changed`
    )

  // Forced: a rollback is how a person stops the bleeding, also when the run holding the lock died.
  return withThePair(run, first, { operation: 'rollback', trafficMoved: false, force: true }, async (pair) => {
    const c = pair.ctx
    // Decided again under the lock: the run that held it may have moved traffic (or recorded a
    // deploy) before it noticed the take-over.
    const found = await discover(config, c.clients.elb)
    refuseProblems(found)
    const { target, from, why } = chooseRollbackTarget(found)
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
