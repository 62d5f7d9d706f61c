import { targetGroupName } from '../config/arn.js'
import type { AwsClients } from '../aws/clients.js'
import type { Clock } from '../runtime/clock.js'
import { readRoutes, writeTags } from '../aws/elbv2.js'
import { releaseLock } from '../records/lock.js'
import type { Log } from '../runtime/log.js'
import type { Progress } from '../runtime/progress.js'
import { TAG } from '../records/fleet-records.js'
import { cancelCommands } from '../aws/ssm-commands.js'
import { restoreTraffic } from '../traffic/restore.js'
import { describeWeights } from '../plan/traffic-state.js'
import { release } from '../fleet/auto-scaling.js'
import { closePreviewRules } from '../traffic/preview-route.js'

export interface CleanupOutcome {
  restored: boolean
  cancelledCommands: number
  releasedLock: boolean
  /** Auto Scaling processes resumed on the group the main step had suspended them on, if any. */
  resumedProcesses?: string[]
  closedPreviewRules?: number
}

/**
 * The post step: undoes what a main step left behind when it did not finish (cancelled, killed,
 * crashed). Idempotent, and a no-op after a finished run, since the runner always runs it.
 */
export async function cleanup(
  progress: Progress | undefined,
  clients: AwsClients,
  log: Log,
  _clock: Clock
): Promise<CleanupOutcome> {
  const outcome: CleanupOutcome = { restored: false, cancelledCommands: 0, releasedLock: false }
  if (!progress || (progress.finished && !progress.suspended)) {
    log.info('The main step finished; nothing to clean up')
    return outcome
  }
  if (progress.finished && progress.suspended) {
    // The main step ended but could not resume what it suspended: only that is left to do.
    outcome.resumedProcesses = await resumeSuspended(progress.suspended, clients, log)
    return outcome
  }
  log.warning('The main step did not finish (cancelled or killed); cleaning up')
  try {
    if (progress.commandIds.length > 0) {
      await cancelCommands(clients.ssm, progress.commandIds).catch((e) =>
        log.warning(`Could not cancel commands: ${(e as Error).message}`)
      )
      outcome.cancelledCommands = progress.commandIds.length
      log.info(`Cancelled SSM command${progress.commandIds.length > 1 ? 's' : ''} ${progress.commandIds.join(', ')}`)
    }
    if (progress.previewRuleArns?.length) {
      const left = await closePreviewRules(clients.elb, progress.previewRuleArns, log)
      outcome.closedPreviewRules = progress.previewRuleArns.length - left.length
      if (outcome.closedPreviewRules) log.info(`Preview closed: ${outcome.closedPreviewRules} rule(s) removed`)
    }
    if (progress.trafficMoved && progress.restore) {
      try {
        const routes = await readRoutes(clients.elb, progress.listenerArns, progress.ruleArns)
        await restoreTraffic({ clients, log }, routes, { pair: progress.pair, restore: progress.restore })
        outcome.restored = true
        log.warning(
          `Traffic restored to the starting weights: ${Object.values(progress.restore).map(describeWeights).join('; ')}`
        )
      } catch (error) {
        log.error(
          `Could not restore the starting weights (${(error as Error).message}): traffic may still reach ${progress.newFleet ? targetGroupName(progress.newFleet) : 'the new fleet'}; run the rollback operation now`
        )
        throw error
      }
    }
    // A fleet that got commands or traffic holds an unfinished deploy; one that got neither is as it
    // was. One that took all traffic and went on to its contract is live whatever the contract did.
    if (progress.newFleet && !progress.settled && (progress.commandIds.length > 0 || progress.trafficMoved)) {
      await writeTags(clients.elb, progress.newFleet, { [TAG.role]: 'failed' }).catch((e) =>
        log.warning(`Could not record the cancelled deploy: ${(e as Error).message}`)
      )
    }
  } finally {
    // Resumed whatever happened above: a group left without Launch or ReplaceUnhealthy would not
    // replace a failed instance, and nobody else knows the run suspended them.
    if (progress.suspended) outcome.resumedProcesses = await resumeSuspended(progress.suspended, clients, log)
    // Released whatever happened above: nobody else would, and a stuck lock would block the very
    // rollback the error asks for.
    if (progress.lockArn) {
      outcome.releasedLock = await releaseLock(clients.elb, progress.lockArn, { id: progress.runId, url: '' }).catch(
        () => false
      )
      if (outcome.releasedLock) log.info('Deploy lock released')
    }
  }
  return outcome
}

/** Resumes exactly what the main step suspended (and is still suspended); says so, or what to do. */
async function resumeSuspended(
  suspended: NonNullable<Progress['suspended']>,
  clients: AwsClients,
  log: Log
): Promise<string[]> {
  try {
    await release(clients.autoScaling, suspended.group, suspended.processes, log)
    return suspended.processes
  } catch (error) {
    log.error(
      `Could not resume ${suspended.processes.join(', ')} on Auto Scaling group ${suspended.group} (${(error as Error).message}); resume them yourself: aws autoscaling resume-processes --auto-scaling-group-name ${suspended.group} --scaling-processes ${suspended.processes.join(' ')}`
    )
    return []
  }
}
