import type { Command, CommandInvocation, GetCommandInvocationCommandOutput, SSMClient } from '@aws-sdk/client-ssm'
import { chunks, inGroups } from '../aws/batches.js'
import {
  cancelCommands,
  getCommand,
  getInvocation,
  listCommands,
  listInvocations,
  sendCommand
} from '../aws/ssm-commands.js'
import {
  allowedFailures,
  clipComment,
  commandLook,
  commandProgress,
  concurrencyFor,
  DEFAULT_POLL,
  elapsed,
  INSTANCES_PER_COMMAND,
  isCountedFailure,
  isFinal,
  listedDuration,
  nextPollInterval,
  outputTail,
  type PollSettings,
  requestedWindow,
  roundSpacing,
  sentWindowFilters
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
  /** Sends a command only while this run holds the pair (records/parameter-lock.ts). */
  guard?: <T>(what: string, change: () => Promise<T>) => Promise<T>
  poll?: PollSettings
}

// SendCommand's delivery timeout cannot be shorter than this.
const MIN_DELIVERY_TIMEOUT_S = 30
// The agent stops a script at its execution timeout and reports within seconds; the grace covers
// delivery and that report, so a command is only cancelled once it has clearly overrun.
const TIMEOUT_GRACE_MS = 30_000
// SSM is eventually consistent: a command just sent may be missing from the listings for a few
// seconds. Missing for this long, it is asked for by its id, and an unknown id is then an error.
const NOT_YET_VISIBLE_MS = 60_000
// Progress is logged when it changes, and at least this often while nothing does.
const PROGRESS_EVERY_MS = 30_000
// Invocation listings of different commands in one round run side by side, a few at a time.
const LISTINGS_AT_ONCE = 5
// Output of failed instances: a bounded number of GetCommandInvocation calls, a few at a time.
const OUTPUT_FETCHES_MAX = 20
const OUTPUT_FETCHES_AT_ONCE = 5
const SHELL_DOCUMENTS = new Set(['AWS-RunShellScript', 'AWS-RunPowerShellScript'])

interface SentCommand {
  id: string
  instanceIds: string[]
  /** When it was sent, by the runner's clock (deadlines). */
  sentAt: number
  /** When SSM may say it was requested (the listing's time filter). */
  requested: { earliest: number; latest: number }
  /** The latest ListCommands entry: status and counts. */
  listed?: Command
  finished: boolean
  timedOut: boolean
  /** SSM's counts said every instance succeeded: no invocation was ever listed for it. */
  allSucceeded: boolean
  /** The latest invocation listing per instance; listed only on failures and at an unclean end. */
  invocations: Map<string, CommandInvocation>
  /** Failures that listing showed, to tell new failures in the counts from known ones. */
  failuresListed: number
}

/** Output of failed instances, each fetched once, at most OUTPUT_FETCHES_MAX in a run. */
type Outputs = Map<string, GetCommandInvocationCommandOutput | Error>

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
    const outputs: Outputs = new Map()
    const timedOut = await waitForCommands(ssm, request, ctx, sent, outputs)
    const results = await collectResults(ssm, request.instanceIds, sent, outputs, log, signal)
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
    const guard = ctx.guard ?? ((_what, change) => change())
    const { id, requestedAt } = await guard(`Sending ${request.document} to ${batch.length} instance(s)`, () =>
      sendCommand(ssm, {
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
    )
    sent.push(newSentCommand(id, batch, clock.now(), requestedAt))
    log.info(`Sent command ${id} to ${batch.length} instance(s) (${i + 1}/${batches.length})`)
    ctx.onSent?.(sent.map((c) => c.id))
  }
}

function newSentCommand(id: string, instanceIds: string[], sentAt: number, requestedAt?: Date): SentCommand {
  return {
    id,
    instanceIds,
    sentAt,
    requested: requestedWindow(requestedAt, sentAt),
    finished: false,
    timedOut: false,
    allSucceeded: false,
    invocations: new Map(),
    failuresListed: 0
  }
}

/** Polls until every command has finished or overrun; returns whether any timed out. */
async function waitForCommands(
  ssm: SSMClient,
  request: CommandRequest,
  ctx: RunCommandContext,
  sent: SentCommand[],
  outputs: Outputs
): Promise<boolean> {
  const { clock, log, signal } = ctx
  const poll = ctx.poll ?? DEFAULT_POLL
  const fleetSize = request.instanceIds.length
  const deadline = (c: SentCommand) => c.sentAt + request.executionTimeoutMs + TIMEOUT_GRACE_MS
  let interval = poll.initialMs
  let calls = 0
  let lastProgress = ''
  let lastLoggedAt = clock.now()
  let timedOut = false

  for (;;) {
    const unfinished = sent.filter((c) => !c.finished)
    if (unfinished.length === 0) return timedOut
    const untilDeadline = Math.min(...unfinished.map(deadline)) - clock.now()
    await clock.sleep(Math.max(0, Math.min(roundSpacing(interval, calls), untilDeadline)), signal)
    interval = nextPollInterval(poll, interval, clock.now() - Math.min(...sent.map((c) => c.sentAt)))

    calls = await lookAtCommands(ssm, unfinished, clock.now(), outputs, signal)
    signal?.throwIfAborted()

    const overrun = sent.filter((c) => !c.finished && clock.now() >= deadline(c))
    if (overrun.length > 0) {
      timedOut = true
      log.warning(
        `${overrun.length} command(s) still running after command-timeout (${Math.round(request.executionTimeoutMs / 1000)}s); cancelling them: ` +
          overrun.map((c) => c.id).join(', ')
      )
      // One last listing tells which instances did finish, for the table; the rest timed out.
      await inGroups(overrun, LISTINGS_AT_ONCE, (c) =>
        listCommandInvocations(ssm, c, clock.now()).catch((e: unknown) => log.warning(messageOf(e)))
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
      `poll: ${calls} call(s) about ${unfinished.length} command(s), ${sent.filter((c) => !c.finished).length} still running; next in ${Math.round(interval)}ms`
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

/**
 * One poll round: a single ListCommands call tells every command's status and counts, however
 * many commands (and instances) there are. Only a command with new failures, or one that ended in
 * anything but full success, has its invocations listed; a newly failed instance has its output
 * fetched once, right away, so the end does not wait for it. Returns the calls made.
 */
async function lookAtCommands(
  ssm: SSMClient,
  unfinished: SentCommand[],
  now: number,
  outputs: Outputs,
  signal: AbortSignal | undefined
): Promise<number> {
  const wanted = new Set(unfinished.map((c) => c.id))
  const listing = await listCommands(ssm, sentWindowFilters(unfinished.map((c) => c.requested)), wanted)
  let calls = listing.calls
  for (const command of unfinished) {
    const entry = listing.commands.find((c) => c.CommandId === command.id)
    if (entry) command.listed = entry
    else if (now - command.sentAt >= NOT_YET_VISIBLE_MS) {
      // Long past any consistency delay: ask by id. SSM's InvalidCommandId is then the answer.
      calls++
      command.listed = (await getCommand(ssm, command.id)) ?? command.listed
    }
  }

  const toList: SentCommand[] = []
  for (const command of unfinished) {
    if (!command.listed) continue
    const look = commandLook(commandProgress(command.listed), command.instanceIds.length, command.failuresListed)
    if (look === 'done') {
      command.allSucceeded = true
      command.finished = true
    } else if (look === 'list-invocations') toList.push(command)
  }
  await inGroups(toList, LISTINGS_AT_ONCE, (c) => listCommandInvocations(ssm, c, now))
  calls += toList.length
  signal?.throwIfAborted()

  // Instances that ran and failed, with an exit code and output worth showing.
  const failed = toList.flatMap((command) =>
    command.instanceIds
      .filter((id) => command.invocations.get(id)?.Status === 'Failed' && !outputs.has(id))
      .map((instanceId) => ({ command, instanceId }))
  )
  calls += await fetchOutputs(ssm, failed, outputs, signal)
  return calls
}

/** Lists a command's invocations; finishes it once the listing has caught up with its final counts. */
async function listCommandInvocations(ssm: SSMClient, command: SentCommand, now: number): Promise<void> {
  let invocations: CommandInvocation[]
  try {
    invocations = await listInvocations(ssm, command.id)
  } catch (error) {
    // The listing may not know a command SSM has just taken; the next round asks again.
    const name = (error as { name?: string }).name
    const notYet = name === 'InvocationDoesNotExist' || name === 'InvalidCommandId'
    if (notYet && now - command.sentAt < NOT_YET_VISIBLE_MS) return
    throw error
  }
  for (const inv of invocations) {
    if (inv.InstanceId && command.instanceIds.includes(inv.InstanceId)) command.invocations.set(inv.InstanceId, inv)
  }
  const listed = command.instanceIds.map((id) => command.invocations.get(id))
  command.failuresListed = listed.filter(isCountedFailure).length
  const finalListed = listed.filter(isFinal).length
  const progress = command.listed ? commandProgress(command.listed) : undefined
  // Final by its counts and the listing shows at least as many final invocations: what is not final
  // by then was never sent (MaxErrors reached) and will not run.
  if (finalListed === command.instanceIds.length || (progress?.final && finalListed >= progress.completed))
    command.finished = true
}

function tally(sent: SentCommand[]): { done: number; failed: number } {
  let done = 0
  let failed = 0
  for (const c of sent) {
    if (c.allSucceeded) {
      done += c.instanceIds.length
    } else if (!c.finished) {
      // Still running: SSM's counts say how far it got.
      const progress = c.listed ? commandProgress(c.listed) : undefined
      done += progress?.completed ?? 0
      failed += progress?.failures ?? 0
    } else {
      for (const id of c.instanceIds) {
        const inv = c.invocations.get(id)
        done++
        if (!isFinal(inv) || inv?.Status !== 'Success') failed++
      }
    }
  }
  return { done, failed }
}

/** Fetches the output of these instances, skipping any already fetched, within the run's bound. */
async function fetchOutputs(
  ssm: SSMClient,
  wanted: Array<{ command: SentCommand; instanceId: string }>,
  outputs: Outputs,
  signal: AbortSignal | undefined
): Promise<number> {
  const fresh = wanted.filter(({ instanceId }) => !outputs.has(instanceId))
  const fetched = fresh.slice(0, Math.max(0, OUTPUT_FETCHES_MAX - outputs.size))
  await inGroups(fetched, OUTPUT_FETCHES_AT_ONCE, async ({ command, instanceId }) => {
    signal?.throwIfAborted()
    const detail = await getInvocation(ssm, command.id, instanceId).catch((e: unknown) =>
      e instanceof Error ? e : new Error(messageOf(e))
    )
    outputs.set(instanceId, detail)
  })
  return fetched.length
}

/** A result per instance; output only for failed ones, and only for a bounded number of them. */
async function collectResults(
  ssm: SSMClient,
  instanceIds: string[],
  sent: SentCommand[],
  outputs: Outputs,
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
  await fetchOutputs(
    ssm,
    failed.map(({ command, result }) => ({ command, instanceId: result.instanceId })),
    outputs,
    signal
  )
  const shown = failed.filter(({ result }) => outputs.has(result.instanceId)).length
  if (failed.length > shown) {
    log.info(`Showing the output of ${shown} of ${failed.length} failed instances; the rest is in the SSM console`)
  }
  for (const { command, result } of failed) {
    const detail = outputs.get(result.instanceId)
    if (detail instanceof Error) {
      log.warning(`Could not read the output of ${result.instanceId} (command ${command.id}): ${detail.message}`)
    } else if (detail) withOutput(result, detail)
  }
  return results
}

function withOutput(result: InstanceCommandResult, detail: GetCommandInvocationCommandOutput): void {
  // SSM reports -1 when the script did not run to an exit of its own.
  if (detail.ResponseCode !== undefined && detail.ResponseCode !== -1) result.exitCode = detail.ResponseCode
  if (detail.StatusDetails && result.status !== 'TimedOut') result.statusDetails = detail.StatusDetails
  result.durationMs ??= elapsed(detail.ExecutionStartDateTime, detail.ExecutionEndDateTime)
  const tail = outputTail(detail.StandardOutputContent ?? '', detail.StandardErrorContent ?? '')
  if (tail) result.outputTail = tail
}

function resultOf(instanceId: string, command: SentCommand): InstanceCommandResult {
  // SSM reports Success only when every step exited 0; no call is spent to fetch it.
  if (command.allSucceeded) return { instanceId, status: 'Success', statusDetails: 'Success', exitCode: 0 }
  const inv = command.invocations.get(instanceId)
  if (isFinal(inv) || !command.timedOut) {
    return {
      instanceId,
      status: inv?.Status ?? 'Pending',
      statusDetails: inv?.StatusDetails,
      durationMs: listedDuration(inv),
      ...(inv?.Status === 'Success' ? { exitCode: 0 } : {})
    }
  }
  return {
    instanceId,
    status: 'TimedOut',
    statusDetails: `not finished within command-timeout (was ${inv?.StatusDetails ?? inv?.Status ?? 'not yet delivered'}); cancelled`
  }
}
