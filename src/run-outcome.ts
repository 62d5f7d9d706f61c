import { targetGroupName } from './arn.js'
import type { RunContext } from './context.js'
import { writeTags } from './load-balancer.js'
import { type FleetRecord, tagsFromRecord } from './records.js'
import type { RunReport } from './report.js'

export async function record(ctx: RunContext, arn: string, fleetRecord: FleetRecord): Promise<void> {
  await writeTags(ctx.clients.elb, arn, tagsFromRecord(fleetRecord))
}

export function finish(report: RunReport, ctx: RunContext, result: RunReport['result'], headline: string): RunReport {
  report.result = result
  report.headline = headline
  report.finishedAt = ctx.clock.now()
  const line = `Result: ${result}. ${headline}`
  if (result === 'failed' || result === 'rolled-back') ctx.log.error(line)
  else ctx.log.info(line)
  return report
}

/**
 * Records a fleet once traffic has settled: a failed tag write then must not turn the run's result
 * around (the weights are what they are), so it becomes a warning in the log and the summary.
 */
export async function recordAfterTraffic(ctx: RunContext, report: RunReport, arn: string, fleetRecord: FleetRecord): Promise<void> {
  await record(ctx, arn, fleetRecord).catch((e) => {
    const message = `Could not record ${targetGroupName(arn)} as ${fleetRecord.role} (${(e as Error).message}); status will show stale records until the next run`
    ctx.log.warning(message)
    report.warnings.push(message)
  })
}
