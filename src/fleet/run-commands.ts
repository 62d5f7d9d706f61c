import type { CommandInvocation, SSMClient } from '@aws-sdk/client-ssm'
import { chunks, inGroups } from '../aws/batches.js'
import { cancelCommands, getInvocation, listInvocations, sendCommand } from '../aws/ssm-commands.js'
import {
  allowedFailures,
  clipComment,
  concurrencyFor,
  DEFAULT_POLL,
  elapsed,
  INSTANCES_PER_COMMAND,
  isFinal,
  listedDuration,
  nextPollInterval,
  outputTail,
  type PollSettings,
  roundSpacing
} from '../plan/command-policy.js'
import type { Clock } from '../runtime/clock.js'
import { messageOf } from '../config/errors.js'
import type { Log } from '../runtime/log.js'

/** One run of an SSM document on the idle fleet, as the deploy asks for it. */
export interface CommandRequest {
  instanceIds: string[]
  document: string
  parameters: Record<string, string[]>
  /** Longest a single instance may run the document; also the deadline for the whole run. */
  executionTimeoutMs: number
  /** SSM rate control: a number of instances or a percentage, for the whole fleet. */
  maxConcurrency: string
  /** SSM rate control: a number of instances or a percentage, judged over the whole fleet. */
  maxErrors: string
  comment: string
  cloudWatchLogGroup?: string
}

/** One instance's result of the document. */
export interface InstanceCommandResult {
  instanceId: string
  status: string
  statusDetails?: string
  exitCode?: number
  durationMs?: number
  /** Last lines of output, as the instance wrote it (escaped only when rendered). */
  outputTail?: string
}

export interface CommandOutcome {
  commandIds: string[]
  /** One per instance, in the order of the request. */
  results: InstanceCommandResult[]
  succeeded: number
  /** Instances that ended in anything but Success, timed-out ones included. */
  failed: number
  /** failures within max-errors: the deploy may go on */
  withinMaxErrors: boolean
  /** The run hit command-timeout and its unfinished commands were cancelled. */
  timedOut: boolean
}

export interface RunCommandContext {
  clock: Clock
  log: Log
  signal?: AbortSignal
  /** Called with every command id sent so far, after each send, so cancellation can find them. */
  onSent?: (commandIds: string[]) => void
  poll?: PollSettings
}

// SendCommand's delivery timeout cannot be shorter than this.
const MIN_DELIVERY_TIMEOUT_S = 30
// The agent stops a script at its execution timeout and reports within seconds; the grace covers
// delivery and that report, so a command is only cancelled once it has clearly overrun.
const TIMEOUT_GRACE_MS = 30_000
// A command's invocations can be unknown to the listing API for a few seconds after SendCommand.
const NOT_YET_VISIBLE_MS = 60_000
// Progress is logged when it changes, and at least this often while nothing does.
const PROGRESS_EVERY_MS = 30_000
// Listings of different commands in one round run side by side, a few at a time.
const LISTINGS_AT_ONCE = 5
// Output of failed instances: a bounded number of GetCommandInvocation calls, a few at a time.
const OUTPUT_FETCHES_MAX = 20
const OUTPUT_FETCHES_AT_ONCE = 5
const SHELL_DOCUMENTS = new Set(['AWS-RunShellScript', 'AWS-RunPowerShellScript'])

interface SentCommand {
  id: string
  instanceIds: string[]
  sentAt: number
  finished: boolean
  timedOut: boolean
  /** The latest listing's invocation per instance. */
  invocations: Map<string, CommandInvocation>
}

/**
 * Runs the document on every instance and waits for all of them, cancelling at the timeout or
 * when the signal aborts. Failures are counted, not thrown: the caller decides with
 * `withinMaxErrors` and `timedOut` whether the deploy may go on.
 */
export async function runCommand(
  ssm: SSMClient,
  request: CommandRequest,
  ctx: RunCommandContext
): Promise<CommandOutcome> {
  const { log, signal } = ctx
  const fleetSize = request.instanceIds.length
  const sent: SentCommand[] = []
  if (fleetSize === 0)
    return { commandIds: [], results: [], succeeded: 0, failed: 0, withinMaxErrors: true, timedOut: false }
  try {
    await sendToFleet(ssm, request, ctx, sent)
    const timedOut = await waitForInvocations(ssm, request, ctx, sent)
    const results = await collectResults(ssm, request.instanceIds, sent, log, signal)
    const succeeded = results.filter((r) => r.status === 'Success').length
    const failed = fleetSize - succeeded
    return {
      commandIds: sent.map((c) => c.id),
      results,
      succeeded,
      failed,
      withinMaxErrors: failed <= allowedFailures(request.maxErrors, fleetSize),
      timedOut
    }
  } catch (error) {
    // Whatever stopped us, commands left running would go on changing the idle fleet unwatched.
    const unfinished = sent.filter((c) => !c.finished).map((c) => c.id)
    if (unfinished.length > 0) {
      log.warning(`Cancelling ${unfinished.length} unfinished command(s): ${unfinished.join(', ')}`)
      await cancelCommands(ssm, unfinished).catch((e: unknown) => log.warning(messageOf(e)))
    }
    throw signal?.aborted ? signal.reason : error
  }
}

async function sendToFleet(
  ssm: SSMClient,
  request: CommandRequest,
  ctx: RunCommandContext,
  sent: SentCommand[]
): Promise<void> {
  const { clock, log, signal } = ctx
  const fleetSize = request.instanceIds.length
  const batches = chunks(request.instanceIds, INSTANCES_PER_COMMAND)
  const concurrency = batches.map((b) => concurrencyFor(request.maxConcurrency, b.length, fleetSize))
  log.info(
    `Running ${request.document} on ${fleetSize} idle instance(s) in ${batches.length} command(s) ` +
      `(max-concurrency ${request.maxConcurrency}, max-errors ${request.maxErrors})`
  )
  const total = concurrency.reduce((sum, c) => sum + (Number(c) || 0), 0)
  if (!request.maxConcurrency.endsWith('%') && total > Number(request.maxConcurrency)) {
    log.warning(
      `max-concurrency ${request.maxConcurrency} is below the number of commands (${batches.length}, at most ${INSTANCES_PER_COMMAND} instances each); ` +
        `each command runs on at least one instance at a time, so up to ${total} instances run at once`
    )
  }
  const executionTimeoutS = Math.ceil(request.executionTimeoutMs / 1000)
  const parameters = { ...request.parameters }
  if (SHELL_DOCUMENTS.has(request.document) && !parameters.executionTimeout)
    parameters.executionTimeout = [String(executionTimeoutS)]

  for (const [i, batch] of batches.entries()) {
    signal?.throwIfAborted()
    const id = await sendCommand(ssm, {
      DocumentName: request.document,
      InstanceIds: batch,
      Parameters: parameters,
      // Delivery waits no longer than the run itself may take (SSM's minimum is 30 s).
      TimeoutSeconds: Math.max(MIN_DELIVERY_TIMEOUT_S, executionTimeoutS),
      MaxConcurrency: concurrency[i],
      MaxErrors: request.maxErrors,
      Comment: clipComment(request.comment),
      ...(request.cloudWatchLogGroup
        ? {
            CloudWatchOutputConfig: {
              CloudWatchLogGroupName: request.cloudWatchLogGroup,
              CloudWatchOutputEnabled: true
            }
          }
        : {})
    })
    sent.push({ id, instanceIds: batch, sentAt: clock.now(), finished: false, timedOut: false, invocations: new Map() })
    log.info(`Sent command ${id} to ${batch.length} instance(s) (${i + 1}/${batches.length})`)
    ctx.onSent?.(sent.map((c) => c.id))
  }
}

/** Polls until every command has finished or overrun; returns whether any timed out. */
async function waitForInvocations(
  ssm: SSMClient,
  request: CommandRequest,
  ctx: RunCommandContext,
  sent: SentCommand[]
): Promise<boolean> {
  const { clock, log, signal } = ctx
  const poll = ctx.poll ?? DEFAULT_POLL
  const fleetSize = request.instanceIds.length
  const deadline = (c: SentCommand) => c.sentAt + request.executionTimeoutMs + TIMEOUT_GRACE_MS
  let interval = poll.initialMs
  let lastProgress = ''
  let lastLoggedAt = clock.now()
  let timedOut = false

  for (;;) {
    const unfinished = sent.filter((c) => !c.finished)
    if (unfinished.length === 0) return timedOut
    const untilDeadline = Math.min(...unfinished.map(deadline)) - clock.now()
    await clock.sleep(Math.max(0, Math.min(roundSpacing(interval, unfinished.length), untilDeadline)), signal)
    interval = nextPollInterval(poll, interval, clock.now() - Math.min(...sent.map((c) => c.sentAt)))

    // One listing per unfinished command per round: a few calls for the fleet, not one per instance.
    await inGroups(unfinished, LISTINGS_AT_ONCE, async (command) => {
      for (const inv of await listVisibleInvocations(ssm, command, clock.now())) {
        if (inv.InstanceId && command.instanceIds.includes(inv.InstanceId)) command.invocations.set(inv.InstanceId, inv)
      }
      command.finished = command.instanceIds.every((id) => isFinal(command.invocations.get(id)))
    })
    signal?.throwIfAborted()

    const overrun = sent.filter((c) => !c.finished && clock.now() >= deadline(c))
    if (overrun.length > 0) {
      timedOut = true
      log.warning(
        `${overrun.length} command(s) still running after command-timeout (${Math.round(request.executionTimeoutMs / 1000)}s); cancelling them: ` +
          overrun.map((c) => c.id).join(', ')
      )
      await cancelCommands(
        ssm,
        overrun.map((c) => c.id)
      ).catch((e: unknown) => log.warning(messageOf(e)))
      for (const c of overrun) {
        c.finished = true
        c.timedOut = true
      }
    }

    const counts = tally(sent)
    const progress = `${counts.done}/${fleetSize} done, ${counts.failed} failed`
    log.debug(
      `poll: listed ${unfinished.length} command(s), ${sent.filter((c) => !c.finished).length} still running; next in ${Math.round(interval)}ms`
    )
    // A change is news; the same count again is only a sign of life.
    if (progress !== lastProgress) log.info(progress)
    else if (clock.now() - lastLoggedAt >= PROGRESS_EVERY_MS) log.debug(`still ${progress}`)
    if (progress !== lastProgress || clock.now() - lastLoggedAt >= PROGRESS_EVERY_MS) {
      lastProgress = progress
      lastLoggedAt = clock.now()
    }
  }
}

/** A command's invocations; none yet (or not found) right after sending. */
async function listVisibleInvocations(ssm: SSMClient, command: SentCommand, now: number): Promise<CommandInvocation[]> {
  try {
    return await listInvocations(ssm, command.id)
  } catch (error) {
    // SSM is eventually consistent: a command just sent may not be listable yet. Treat it as
    // pending and look again next round, for a while; after that the error is real.
    const name = (error as { name?: string }).name
    const notYet = name === 'InvocationDoesNotExist' || name === 'InvalidCommandId'
    if (notYet && now - command.sentAt < NOT_YET_VISIBLE_MS) return []
    throw error
  }
}

function tally(sent: SentCommand[]): { done: number; failed: number } {
  let done = 0
  let failed = 0
  for (const c of sent) {
    for (const id of c.instanceIds) {
      const inv = c.invocations.get(id)
      if (isFinal(inv)) {
        done++
        if (inv?.Status !== 'Success') failed++
      } else if (c.timedOut) {
        done++
        failed++
      }
    }
  }
  return { done, failed }
}

/** A result per instance; output only for failed ones, and only for a bounded number of them. */
async function collectResults(
  ssm: SSMClient,
  instanceIds: string[],
  sent: SentCommand[],
  log: Log,
  signal: AbortSignal | undefined
): Promise<InstanceCommandResult[]> {
  const byInstance = new Map<string, { command: SentCommand; result: InstanceCommandResult }>()
  for (const command of sent) {
    for (const instanceId of command.instanceIds) {
      byInstance.set(instanceId, { command, result: resultOf(instanceId, command) })
    }
  }
  const results = instanceIds.map((id) => byInstance.get(id)?.result ?? { instanceId: id, status: 'Pending' })

  // Failed instances first (they ran and have an exit code), then timed-out or undelivered ones.
  const failed = [...byInstance.values()]
    .filter(({ result }) => result.status !== 'Success')
    .sort((a, b) => Number(b.result.status === 'Failed') - Number(a.result.status === 'Failed'))
  const fetched = failed.slice(0, OUTPUT_FETCHES_MAX)
  if (failed.length > fetched.length) {
    log.info(
      `Showing the output of ${fetched.length} of ${failed.length} failed instances; the rest is in the SSM console`
    )
  }
  await inGroups(fetched, OUTPUT_FETCHES_AT_ONCE, async ({ command, result }) => {
    signal?.throwIfAborted()
    try {
      const detail = await getInvocation(ssm, command.id, result.instanceId)
      // SSM reports -1 when the script did not run to an exit of its own.
      if (detail.ResponseCode !== undefined && detail.ResponseCode !== -1) result.exitCode = detail.ResponseCode
      if (detail.StatusDetails && result.status !== 'TimedOut') result.statusDetails = detail.StatusDetails
      result.durationMs ??= elapsed(detail.ExecutionStartDateTime, detail.ExecutionEndDateTime)
      const tail = outputTail(detail.StandardOutputContent ?? '', detail.StandardErrorContent ?? '')
      if (tail) result.outputTail = tail
    } catch (error) {
      log.warning(`Could not read the output of ${result.instanceId} (command ${command.id}): ${messageOf(error)}`)
    }
  })
  return results
}

function resultOf(instanceId: string, command: SentCommand): InstanceCommandResult {
  const inv = command.invocations.get(instanceId)
  if (isFinal(inv) || !command.timedOut) {
    return {
      instanceId,
      status: inv?.Status ?? 'Pending',
      statusDetails: inv?.StatusDetails,
      durationMs: listedDuration(inv),
      // SSM reports Success only when every step exited 0; no call is spent to fetch it.
      ...(inv?.Status === 'Success' ? { exitCode: 0 } : {})
    }
  }
  return {
    instanceId,
    status: 'TimedOut',
    statusDetails: `not finished within command-timeout (was ${inv?.StatusDetails ?? inv?.Status ?? 'not yet delivered'}); cancelled`
  }
}
