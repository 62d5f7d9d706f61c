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
  ctx.log.info(`Rollback: ${why}; all traffic to ${targetGroupName(target)}`)
  if (config.dryRun)
    return run.dryRun(
      found,
      `Dry run: would put all traffic on ${targetGroupName(target)} (${why}); nothing was changed`
    )

  // Forced: a rollback is how a person stops the bleeding, also when the run holding the lock died.
  return withThePair(run, found, { operation: 'rollback', trafficMoved: false, force: true, preview }, async () => {
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
