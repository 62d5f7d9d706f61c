import { targetGroupName } from '../config/arn.js'
import type { Config } from '../config/inputs.js'
import { chooseRollbackTarget, isFailedRole } from '../plan/rollback-target.js'
import type { FleetRecord } from '../records/fleet-records.js'
import { writeRecord } from '../records/write-records.js'
import type { RunReport } from '../report/report.js'
import type { RunContext } from '../runtime/context.js'
import { restoreTraffic } from '../traffic/restore.js'
import { discover } from './discover.js'
import { OperationRun, withThePair } from './lifecycle.js'

/**
 * `operation: rollback`: all traffic back on the previous fleet in one verified write. From a
 * paused or stuck canary that is the stable fleet; after a finished deploy it is the fleet that
 * was live before, once its targets are checked healthy.
 */
export async function rollback(config: Config, ctx: RunContext): Promise<RunReport> {
  const run = new OperationRun(config, ctx)
  const found = await discover(config, ctx.clients.elb, ctx.routesAtStart)
  const { target, from, why } = chooseRollbackTarget(found)
  const restore = Object.fromEntries(found.routes.map((r) => [r.arn, { [target]: 100, [from]: 0 }]))
  Object.assign(run.report.outputs, { live: from, idle: target })
  ctx.log.info(`Rollback: ${why}; all traffic to ${targetGroupName(target)}`)
  if (config.dryRun)
    return run.dryRun(
      found,
      `Dry run: would put all traffic on ${targetGroupName(target)} (${why}); nothing was changed`
    )

  // Forced: a rollback is how a person stops the bleeding, also when the run holding the lock died.
  return withThePair(run, found, { operation: 'rollback', trafficMoved: false, force: true }, async () => {
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
      `Rolled back: all traffic on ${targetGroupName(target)}${version}, ${why}`
    )
  })
}
