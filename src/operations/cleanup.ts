import type { AwsClients } from '../aws/clients.js'
import { readRoutes } from '../aws/elbv2.js'
import { cancelCommands } from '../aws/ssm-commands.js'
import { targetGroupName } from '../config/arn.js'
import { LockLostError, messageOf } from '../config/errors.js'
import { pairWeights, type Weights } from '../plan/forward-action.js'
import { describeWeights } from '../plan/traffic-state.js'
import { resumeLock } from '../records/parameter-lock.js'
import { writeRecord } from '../records/write-records.js'
import type { Clock } from '../runtime/clock.js'
import type { Log } from '../runtime/log.js'
import type { Progress } from '../runtime/progress.js'
import { restoreTraffic } from '../traffic/restore.js'
import { release } from '../fleet/auto-scaling.js'
import { closePreviewRules } from '../traffic/preview-route.js'
import { sameWeights } from '../traffic/shift.js'

export interface CleanupOutcome {
  restored: boolean
  cancelledCommands: number
  releasedLock: boolean
  /** Another run holds the pair now: this post step left traffic and records to it. */
  handedOver: boolean
  /** Auto Scaling processes resumed on the group the main step had suspended them on, if any. */
  resumedProcesses?: string[]
  closedPreviewRules?: number
}

/**
 * The post step: finishes what a main step left when it did not finish (cancelled, killed,
 * crashed), the way the main step would have: its starting weights back (unless auto-rollback is
 * off), the records it would have written. Only while the lock still holds this run's claim: a run
 * that lost the pair to another (a rollback) leaves traffic and records to that run, and so does
 * its post step. Idempotent, and a no-op after a finished run, since the runner always runs it.
 */
export async function cleanup(
  progress: Progress | undefined,
  clients: AwsClients,
  log: Log,
  clock: Clock
): Promise<CleanupOutcome> {
  const outcome: CleanupOutcome = { restored: false, cancelledCommands: 0, releasedLock: false, handedOver: false }
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
    return await finishTheRun(progress, clients, log, clock, outcome)
  } finally {
    // Resumed whatever happened: a group left without Launch or ReplaceUnhealthy would not replace a
    // failed instance, and nobody else knows the run suspended them. They are this run's own doing
    // on its own fleet, so they are resumed whoever holds the pair now.
    if (progress.suspended) outcome.resumedProcesses = await resumeSuspended(progress.suspended, clients, log)
  }
}

async function finishTheRun(
  progress: Progress,
  clients: AwsClients,
  log: Log,
  clock: Clock,
  outcome: CleanupOutcome
): Promise<CleanupOutcome> {
  // Its own commands are stopped whoever holds the pair: left running they would go on changing
  // the idle fleet unwatched.
  if (progress.commandIds.length > 0) {
    await cancelCommands(clients.ssm, progress.commandIds).catch((e) =>
      log.warning(`Could not cancel commands: ${messageOf(e)}`)
    )
    outcome.cancelledCommands = progress.commandIds.length
    log.info(`Cancelled SSM command${progress.commandIds.length > 1 ? 's' : ''} ${progress.commandIds.join(', ')}`)
  }
  if (!progress.lockName) return outcome
  const lock = resumeLock({
    ssm: clients.ssm,
    name: progress.lockName,
    run: { id: progress.runId, url: '' },
    operation: progress.operation,
    clock,
    log
  })
  try {
    await lock.confirm()
  } catch (error) {
    if (!(error instanceof LockLostError)) throw error
    if (progress.lockTaken === false) {
      log.info('The main step stopped before it held the deploy lock; nothing to clean up')
      return outcome
    }
    log.warning(`${error.message}; this post step changes nothing`)
    outcome.handedOver = true
    return outcome
  }
  const guard = lock.guard.bind(lock)
  try {
    if (progress.previewRuleArns?.length) {
      const rules = progress.previewRuleArns
      const left = await guard('Closing the preview', () => closePreviewRules(clients.elb, rules, log))
      outcome.closedPreviewRules = rules.length - left.length
      if (outcome.closedPreviewRules) log.info(`Preview closed: ${outcome.closedPreviewRules} rule(s) removed`)
    }
    // A new fleet that took all traffic and went on to its contract is live whatever the contract
    // did: the old fleet may no longer work with the data, so nothing is put back (settled).
    if (progress.trafficMoved && progress.restore && !progress.settled)
      await putTrafficBack(progress, clients, log, guard)
    outcome.restored = progress.trafficMoved && !!progress.restore && progress.autoRollback && !progress.settled
    for (const [arn, record] of Object.entries(progress.records ?? {})) {
      await writeRecord({ clients }, guard, arn, record).catch((e) =>
        log.warning(`Could not record ${targetGroupName(arn)} as ${record.role}: ${messageOf(e)}`)
      )
    }
  } finally {
    // Released whatever happened above: nobody else would, and a stuck lock would block the very
    // rollback an error asks for. A lock another run took meanwhile is not this run's to release.
    outcome.releasedLock = await lock.release().catch(() => false)
    if (outcome.releasedLock) log.info('Deploy lock released')
  }
  return outcome
}

async function putTrafficBack(
  progress: Progress,
  clients: AwsClients,
  log: Log,
  guard: <T>(what: string, change: () => Promise<T>) => Promise<T>
): Promise<void> {
  const restore = progress.restore as Record<string, Weights>
  const where = Object.values(restore).map(describeWeights).join('; ')
  if (!progress.autoRollback) {
    log.warning(
      `auto-rollback is off: traffic stays where the main step left it; run rollback to put it back (${where})`
    )
    return
  }
  const routes = await readRoutes(clients.elb, progress.listenerArns, progress.ruleArns)
  // A route that shows weights this run did not leave was changed by someone else: theirs win.
  const foreign = routes.filter((route) => {
    const now = pairWeights(route, progress.pair)
    const expected = progress.expected?.[route.arn]
    return expected !== undefined && !expected.some((w) => sameWeights(now, w))
  })
  if (foreign.length > 0) {
    log.error(
      `Traffic was changed by someone else after this run (${foreign.map((r) => describeWeights(pairWeights(r, progress.pair))).join('; ')}); the post step leaves it as it is: run status, then rollback if needed`
    )
    return
  }
  try {
    await restoreTraffic({ clients, log }, routes, {
      pair: progress.pair,
      restore,
      targetSticky: progress.targetSticky === true,
      guard
    })
    log.warning(`Traffic restored to the starting weights: ${where}`)
  } catch (error) {
    log.error(
      `Could not restore the starting weights (${messageOf(error)}): traffic may still reach ${progress.newFleet ? targetGroupName(progress.newFleet) : 'the new fleet'}; run the rollback operation now`
    )
    throw error
  }
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
