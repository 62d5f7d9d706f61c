import {
  CancelCommandCommand,
  type CommandInvocation,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  type InstanceInformation,
  ListCommandInvocationsCommand,
  SendCommandCommand,
  type SSMClient
} from '@aws-sdk/client-ssm'
import type { Clock } from './clock.js'
import { DeployError } from './errors.js'
import { chunks } from './load-balancer.js'
import type { Log } from './log.js'
import type { InstanceCommandResult } from './report.js'

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

export interface PollSettings {
  initialMs: number
  /** Longest interval while the commands are young (see slowAfterMs). */
  maxMs: number
  factor: number
  /** After this long, the interval follows the commands' age instead... */
  slowAfterMs: number
  /** ...at this share of it, */
  slowShare: number
  /** ...up to this. */
  slowMaxMs: number
}

export interface RunCommandContext {
  clock: Clock
  log: Log
  signal?: AbortSignal
  /** Called with every command id sent so far, after each send, so cancellation can find them. */
  onSent?: (commandIds: string[]) => void
  poll?: PollSettings
}

// SSM's own limits: InstanceIds per SendCommand, results per listing page, filter values per
// DescribeInstanceInformation, characters in a command's comment.
const INSTANCES_PER_COMMAND = 50
const PAGE_SIZE = 50
const IDS_PER_DESCRIBE = 50
const COMMENT_MAX = 100
// SendCommand's delivery timeout cannot be shorter than this.
const MIN_DELIVERY_TIMEOUT_S = 30

// Status is polled quickly at first (the first look 100 ms after sending), then every half second
// for the first 30 s: most deploy scripts end by then, and each is noticed within half a second.
// A long script is then looked at less often, at a tenth of its age, up to every 5 s: noticing it
// late costs at most a tenth of its run, and a ten-minute script costs a few hundred calls, not
// a thousand.
const DEFAULT_POLL: PollSettings = { initialMs: 100, factor: 1.5, maxMs: 500, slowAfterMs: 30_000, slowShare: 0.1, slowMaxMs: 5000 }
// Each round lists every unfinished command. With many commands, rounds are spaced so that the
// listings stay under this rate (SSM throttles per account and API; other tools share it): 20
// commands (1,000 instances) are polled every 2 s until some finish, then faster again.
const LISTINGS_PER_SECOND = 10
// The agent stops a script at its execution timeout and reports within seconds; the grace covers
// delivery and that report, so a command is only cancelled once it has clearly overrun.
const TIMEOUT_GRACE_MS = 30_000
// A command's invocations can be unknown to the listing API for a few seconds after SendCommand.
const NOT_YET_VISIBLE_MS = 60_000
// Progress is logged when it changes, and at least this often while nothing does.
const PROGRESS_EVERY_MS = 30_000
// Listings of different commands in one round run side by side, a few at a time.
const LISTINGS_AT_ONCE = 5
// Instance checks before sending, likewise.
const DESCRIBES_AT_ONCE = 5
// Output of failed instances: a bounded number of GetCommandInvocation calls, a few at a time.
const OUTPUT_FETCHES_MAX = 20
const OUTPUT_FETCHES_AT_ONCE = 5
const TAIL_LINES = 40
const TAIL_CHARS = 4096
// Instances named in an error message before "and N more".
const NAMED_IN_ERROR = 10

// Invocation statuses that can still change; every other status is final.
const UNFINISHED = new Set(['Pending', 'InProgress', 'Delayed', 'Cancelling'])
const SHELL_DOCUMENTS = new Set(['AWS-RunShellScript', 'AWS-RunPowerShellScript'])

/**
 * Checks that every instance can receive a command now: managed by SSM and its agent online.
 * Sending to an instance that is not would only fail later, one invocation at a time.
 */
export async function checkInstancesReady(ssm: SSMClient, instanceIds: string[]): Promise<void> {
  const seen = new Map<string, InstanceInformation>()
  // A few batches at a time: one after the other, 1,000 instances would wait on 20 round trips.
  await inGroups(chunks(instanceIds, IDS_PER_DESCRIBE), DESCRIBES_AT_ONCE, async (batch) => {
    let NextToken: string | undefined
    do {
      const page = await ssm.send(
        new DescribeInstanceInformationCommand({ Filters: [{ Key: 'InstanceIds', Values: batch }], MaxResults: PAGE_SIZE, NextToken })
      )
      for (const info of page.InstanceInformationList ?? []) if (info.InstanceId) seen.set(info.InstanceId, info)
      NextToken = page.NextToken
    } while (NextToken)
  })
  const notReady = instanceIds.flatMap((id) => {
    const info = seen.get(id)
    if (!info) return [`${id} (not managed by SSM)`]
    if (info.PingStatus !== 'Online') return [`${id} (${info.PingStatus ?? 'no agent status'})`]
    return []
  })
  if (notReady.length > 0) {
    throw new DeployError(
      `${notReady.length} of ${instanceIds.length} idle instances cannot run commands: ${boundedList(notReady)}; ` +
        'start the SSM agent and give each instance a role with AmazonSSMManagedInstanceCore (and a route to the SSM endpoints), ' +
        'or deregister it from the idle target group, then run the deploy again'
    )
  }
}

/**
 * Runs the document on every instance and waits for all of them, cancelling at the timeout or
 * when the signal aborts. Failures are counted, not thrown: the caller decides with
 * `withinMaxErrors` and `timedOut` whether the deploy may go on.
 */
export async function runCommand(ssm: SSMClient, request: CommandRequest, ctx: RunCommandContext): Promise<CommandOutcome> {
  const { log, signal } = ctx
  const fleetSize = request.instanceIds.length
  const sent: SentCommand[] = []
  if (fleetSize === 0) return { commandIds: [], results: [], succeeded: 0, failed: 0, withinMaxErrors: true, timedOut: false }
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

/** Cancels the commands on all their instances; a command that already finished is left as it is. */
export async function cancelCommands(ssm: SSMClient, commandIds: string[]): Promise<void> {
  const outcomes = await Promise.allSettled(commandIds.map((CommandId) => ssm.send(new CancelCommandCommand({ CommandId }))))
  const failures = outcomes.flatMap((o, i) => (o.status === 'rejected' ? [`${commandIds[i]} (${messageOf(o.reason)})`] : []))
  if (failures.length > 0) {
    throw new DeployError(
      `Could not cancel ${failures.length} SSM command(s): ${boundedList(failures)}; cancel them in the Systems Manager console (Run Command)`
    )
  }
}

/** The commands' comment: which deploy, from which workflow run, within SSM's 100 characters. */
export function commandComment(parts: { version: string; repository?: string; runId?: string }): string {
  // A commit SHA is recognisable from its first 12 digits; other labels are kept as given.
  const version = /^[0-9a-f]{13,}$/i.test(parts.version) ? parts.version.slice(0, 12) : parts.version
  const run = parts.runId ? ` run ${parts.runId}` : ''
  const full = `deploy ${version}${parts.repository ? ` from ${parts.repository}` : ''}${run}`
  if (full.length <= COMMENT_MAX) return full
  // The run is what finds the deploy again: the version and repository give way to it.
  return `${clip(full.slice(0, full.length - run.length), COMMENT_MAX - run.length)}${run}`.slice(0, COMMENT_MAX)
}

/** The command's page in the Systems Manager console: every instance's status and output. */
export function consoleUrl(region: string, commandId: string): string {
  return `${consoleOrigin(region)}/systems-manager/run-command/${encodeURIComponent(commandId)}?region=${region}`
}

/** The log group's page in the CloudWatch console, where SSM writes each instance's full output. */
export function logGroupUrl(region: string, logGroup: string): string {
  // The console's fragment router expects the name URL-encoded twice over, with '$' for '%'.
  const name = encodeURIComponent(logGroup).replace(/%/g, '$25')
  return `${consoleOrigin(region)}/cloudwatch/home?region=${region}#logsV2:log-groups/log-group/${name}`
}

interface SentCommand {
  id: string
  instanceIds: string[]
  sentAt: number
  finished: boolean
  timedOut: boolean
  /** The latest listing's invocation per instance. */
  invocations: Map<string, CommandInvocation>
}

async function sendToFleet(ssm: SSMClient, request: CommandRequest, ctx: RunCommandContext, sent: SentCommand[]): Promise<void> {
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
  if (SHELL_DOCUMENTS.has(request.document) && !parameters.executionTimeout) parameters.executionTimeout = [String(executionTimeoutS)]

  for (const [i, batch] of batches.entries()) {
    signal?.throwIfAborted()
    const { Command } = await ssm
      .send(
        new SendCommandCommand({
          DocumentName: request.document,
          InstanceIds: batch,
          Parameters: parameters,
          // Delivery waits no longer than the run itself may take (SSM's minimum is 30 s).
          TimeoutSeconds: Math.max(MIN_DELIVERY_TIMEOUT_S, executionTimeoutS),
          MaxConcurrency: concurrency[i],
          MaxErrors: request.maxErrors,
          Comment: request.comment.slice(0, COMMENT_MAX),
          ...(request.cloudWatchLogGroup
            ? { CloudWatchOutputConfig: { CloudWatchLogGroupName: request.cloudWatchLogGroup, CloudWatchOutputEnabled: true } }
            : {})
        })
      )
      .catch((e: unknown) => {
        throw sendError(e, request.document)
      })
    if (!Command?.CommandId) throw new DeployError(`SSM accepted ${request.document} but returned no command id; run the deploy again`)
    sent.push({ id: Command.CommandId, instanceIds: batch, sentAt: clock.now(), finished: false, timedOut: false, invocations: new Map() })
    log.info(`Sent command ${Command.CommandId} to ${batch.length} instance(s) (${i + 1}/${batches.length})`)
    ctx.onSent?.(sent.map((c) => c.id))
  }
}

/**
 * Shares an absolute max-concurrency out across the commands, so the fleet as a whole never runs
 * more instances at once than asked: each command gets max(1, floor(C × its instances / fleet)).
 * The sum of the floors never exceeds C; only when C is below the number of commands does the
 * minimum of one per command go over it (the caller is warned). A percentage applies to each
 * command's own instances, which is the same share of the fleet, so it passes as it is.
 */
function concurrencyFor(maxConcurrency: string, batchSize: number, fleetSize: number): string {
  if (maxConcurrency.endsWith('%')) return maxConcurrency
  return String(Math.max(1, Math.floor((Number(maxConcurrency) * batchSize) / fleetSize)))
}

/**
 * max-errors over the whole fleet. Each command is sent the same value, so SSM stops a command
 * early on its own errors; whether the deploy may go on is judged here, over every instance.
 * A percentage rounds down, like SSM's own.
 */
function allowedFailures(maxErrors: string, fleetSize: number): number {
  if (maxErrors.endsWith('%')) return Math.floor((Number(maxErrors.slice(0, -1)) * fleetSize) / 100)
  return Number(maxErrors)
}

/** Polls until every command has finished or overrun; returns whether any timed out. */
async function waitForInvocations(ssm: SSMClient, request: CommandRequest, ctx: RunCommandContext, sent: SentCommand[]): Promise<boolean> {
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
    const spacing = Math.max(interval, (unfinished.length * 1000) / LISTINGS_PER_SECOND)
    await clock.sleep(Math.max(0, Math.min(spacing, untilDeadline)), signal)
    const age = clock.now() - Math.min(...sent.map((c) => c.sentAt))
    interval = age < poll.slowAfterMs ? Math.min(poll.maxMs, interval * poll.factor) : Math.min(poll.slowMaxMs, Math.max(poll.maxMs, age * poll.slowShare))

    // One listing per unfinished command per round: a few calls for the fleet, not one per instance.
    await inGroups(unfinished, LISTINGS_AT_ONCE, async (command) => {
      const invocations = await listInvocations(ssm, command, clock.now())
      for (const inv of invocations) {
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
      await cancelCommands(ssm, overrun.map((c) => c.id)).catch((e: unknown) => log.warning(messageOf(e)))
      for (const c of overrun) {
        c.finished = true
        c.timedOut = true
      }
    }

    const counts = tally(sent)
    const progress = `${counts.done}/${fleetSize} done, ${counts.failed} failed`
    if (progress !== lastProgress || clock.now() - lastLoggedAt >= PROGRESS_EVERY_MS) {
      log.info(progress)
      lastProgress = progress
      lastLoggedAt = clock.now()
    }
  }
}

/** Every invocation of a command, through all pages; none yet (or not found) right after sending. */
async function listInvocations(ssm: SSMClient, command: SentCommand, now: number): Promise<CommandInvocation[]> {
  const invocations: CommandInvocation[] = []
  let NextToken: string | undefined
  try {
    do {
      const page = await ssm.send(new ListCommandInvocationsCommand({ CommandId: command.id, MaxResults: PAGE_SIZE, NextToken }))
      invocations.push(...(page.CommandInvocations ?? []))
      NextToken = page.NextToken
    } while (NextToken)
  } catch (error) {
    // SSM is eventually consistent: a command just sent may not be listable yet. Treat it as
    // pending and look again next round, for a while; after that the error is real.
    const name = (error as { name?: string }).name
    const notYet = name === 'InvocationDoesNotExist' || name === 'InvalidCommandId'
    if (notYet && now - command.sentAt < NOT_YET_VISIBLE_MS) return []
    throw error
  }
  return invocations
}

function isFinal(invocation: CommandInvocation | undefined): boolean {
  return invocation?.Status !== undefined && !UNFINISHED.has(invocation.Status)
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
      const inv = command.invocations.get(instanceId)
      const result: InstanceCommandResult =
        isFinal(inv) || !command.timedOut
          ? {
              instanceId,
              status: inv?.Status ?? 'Pending',
              statusDetails: inv?.StatusDetails,
              durationMs: listedDuration(inv),
              // SSM reports Success only when every step exited 0; no call is spent to fetch it.
              ...(inv?.Status === 'Success' ? { exitCode: 0 } : {})
            }
          : {
              instanceId,
              status: 'TimedOut',
              statusDetails: `not finished within command-timeout (was ${inv?.StatusDetails ?? inv?.Status ?? 'not yet delivered'}); cancelled`
            }
      byInstance.set(instanceId, { command, result })
    }
  }
  const results = instanceIds.map((id) => byInstance.get(id)?.result ?? { instanceId: id, status: 'Pending' })

  // Failed instances first (they ran and have an exit code), then timed-out or undelivered ones.
  const failed = [...byInstance.values()]
    .filter(({ result }) => result.status !== 'Success')
    .sort((a, b) => Number(b.result.status === 'Failed') - Number(a.result.status === 'Failed'))
  const fetched = failed.slice(0, OUTPUT_FETCHES_MAX)
  if (failed.length > fetched.length) {
    log.info(`Showing the output of ${fetched.length} of ${failed.length} failed instances; the rest is in the SSM console`)
  }
  await inGroups(fetched, OUTPUT_FETCHES_AT_ONCE, async ({ command, result }) => {
    signal?.throwIfAborted()
    try {
      const detail = await ssm.send(new GetCommandInvocationCommand({ CommandId: command.id, InstanceId: result.instanceId }))
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

function listedDuration(inv: CommandInvocation | undefined): number | undefined {
  const plugins = inv?.CommandPlugins ?? []
  const starts = plugins.flatMap((p) => (p.ResponseStartDateTime ? [p.ResponseStartDateTime.getTime()] : []))
  const ends = plugins.flatMap((p) => (p.ResponseFinishDateTime ? [p.ResponseFinishDateTime.getTime()] : []))
  if (starts.length === 0 || ends.length === 0) return undefined
  return Math.max(0, Math.max(...ends) - Math.min(...starts))
}

function elapsed(start: string | undefined, end: string | undefined): number | undefined {
  if (!start || !end) return undefined
  const ms = Date.parse(end) - Date.parse(start)
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined
}

/** The end of what the instance wrote: stdout, then stderr, cut to the last lines and bytes. */
function outputTail(stdout: string, stderr: string): string {
  const out = stdout.trimEnd()
  const err = stderr.trimEnd()
  const text = out && err ? `${out}\n--- stderr ---\n${err}` : out || err
  const lines = text.split('\n')
  const tail = lines.slice(-TAIL_LINES).join('\n')
  return tail.length > TAIL_CHARS ? tail.slice(-TAIL_CHARS) : tail
}

function sendError(error: unknown, document: string): unknown {
  const name = (error as { name?: string }).name
  const message = messageOf(error)
  switch (name) {
    case 'InvalidDocument':
    case 'InvalidDocumentVersion':
      return new DeployError(`SSM has no usable document ${document} (${message}); check the document input and the region`)
    case 'InvalidParameters':
      return new DeployError(`${document} does not accept the parameters given (${message}); check commands and document-parameters`)
    case 'InvalidInstanceId':
      return new DeployError(`SSM cannot send to the idle instances (${message}); check that they are running, managed by SSM and online`)
    case 'AccessDeniedException':
      return new DeployError(`Not allowed to send ${document} (${message}); give the workflow's role ssm:SendCommand on the document and the instances`)
    default:
      return error
  }
}

function consoleOrigin(region: string): string {
  if (region.startsWith('cn-')) return `https://${region}.console.amazonaws.cn`
  if (region.startsWith('us-gov-')) return `https://${region}.console.amazonaws-us-gov.com`
  return `https://${region}.console.aws.amazon.com`
}

async function inGroups<T>(items: readonly T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  for (const group of chunks(items, size)) await Promise.all(group.map(work))
}

function boundedList(items: string[]): string {
  const named = items.slice(0, NAMED_IN_ERROR).join(', ')
  return items.length > NAMED_IN_ERROR ? `${named} and ${items.length - NAMED_IN_ERROR} more` : named
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
