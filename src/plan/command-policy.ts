// The rules for running a document on a fleet through SSM: how the fleet's rate controls are
// shared across commands, how many failures it tolerates, how often status is polled, what a
// command's counts say and when its invocations are worth a call, and what the commands say about
// themselves. Pure, so every rule is tested without AWS.
import type { Command, CommandFilter, CommandInvocation } from '@aws-sdk/client-ssm'

// SSM's own limits: InstanceIds per SendCommand, characters in a command's comment.
export const INSTANCES_PER_COMMAND = 50
const COMMENT_MAX = 100

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

// Status is polled quickly at first (the first look 100 ms after sending), then every half second
// for the first minute: most deploy scripts end by then, and each is noticed within half a second.
// A round is one call whatever the fleet's size, so that minute costs about 120 calls. A long
// script is then looked at less often, at a twentieth of its age, up to every 5 s: noticing it late
// costs at most a twentieth of its run, and a ten-minute script costs a couple of hundred calls.
export const DEFAULT_POLL: PollSettings = {
  initialMs: 100,
  factor: 1.5,
  maxMs: 500,
  slowAfterMs: 60_000,
  slowShare: 0.05,
  slowMaxMs: 5000
}

/** The interval after `interval`, for commands `ageMs` old. */
export function nextPollInterval(poll: PollSettings, interval: number, ageMs: number): number {
  if (ageMs < poll.slowAfterMs) return Math.min(poll.maxMs, interval * poll.factor)
  return Math.min(poll.slowMaxMs, Math.max(poll.maxMs, ageMs * poll.slowShare))
}

// A round is one ListCommands call, plus a listing of each command that shows new failures and the
// output of each newly failed instance. Rounds are spaced so that even a round with many of those
// stays under this rate (SSM throttles per account and API; other tools share it).
const CALLS_PER_SECOND = 10

/** How long to wait before the next round, after a round that made `calls` calls. */
export function roundSpacing(interval: number, calls: number): number {
  return Math.max(interval, (calls * 1000) / CALLS_PER_SECOND)
}

// Invocation statuses that can still change; every other status is final.
const UNFINISHED = new Set(['Pending', 'InProgress', 'Delayed', 'Cancelling'])

export function isFinal(invocation: CommandInvocation | undefined): boolean {
  return invocation?.Status !== undefined && !UNFINISHED.has(invocation.Status)
}

/** An invocation SSM counts in a command's ErrorCount or DeliveryTimedOutCount. */
export function isCountedFailure(invocation: CommandInvocation | undefined): boolean {
  return invocation?.Status === 'Failed' || invocation?.Status === 'TimedOut'
}

/** What one ListCommands entry says about a command, from its status and counts alone. */
export interface CommandProgress {
  final: boolean
  targets: number
  completed: number
  /** Targets that failed, timed out or were never delivered, so far. */
  failures: number
  /** Every target ran the document and exited 0: nothing more to ask about this command. */
  allSucceeded: boolean
}

// Command statuses that can still change; Success, Failed, TimedOut and Cancelled are final.
const COMMAND_UNFINISHED = new Set(['Pending', 'InProgress', 'Cancelling'])

export function commandProgress(command: Command): CommandProgress {
  const final = command.Status !== undefined && !COMMAND_UNFINISHED.has(command.Status)
  const targets = command.TargetCount ?? 0
  const completed = command.CompletedCount ?? 0
  const failures = (command.ErrorCount ?? 0) + (command.DeliveryTimedOutCount ?? 0)
  // StatusDetails Success means the document succeeded on every invocation; "Incomplete" and the
  // rest mean some did not (a command can be Success overall while one instance failed within
  // MaxErrors, or was cancelled, which no counter shows). Only then may a deploy take the whole
  // command as done without asking about its instances.
  const allSucceeded =
    final &&
    command.Status === 'Success' &&
    (command.StatusDetails ?? 'Success') === 'Success' &&
    failures === 0 &&
    targets > 0 &&
    completed === targets
  return { final, targets, completed, failures, allSucceeded }
}

/** What to do about one command after a round's ListCommands answer. */
export type CommandLook = 'done' | 'list-invocations' | 'wait'

/**
 * Whether a command needs its invocations listed: when it ended in anything but full success (the
 * table needs each instance's result), or while running when SSM counts more failures than its
 * last invocation listing showed (their output is fetched as soon as they fail, so the end does
 * not wait for it). A listing that lags the counts is simply asked again next round.
 */
export function commandLook(progress: CommandProgress, instanceCount: number, failuresListed: number): CommandLook {
  if (progress.allSucceeded && progress.targets === instanceCount) return 'done'
  if (progress.final) return 'list-invocations'
  return progress.failures > failuresListed ? 'list-invocations' : 'wait'
}

// A command is listed with the moment SSM took it as its RequestedDateTime, and SSM's time filters
// compare those. A second either side covers the rounding of a date string.
const WINDOW_SLACK_MS = 1000
// When SendCommand's answer carries no RequestedDateTime, the runner's clock stands in for SSM's;
// AWS refuses requests signed more than 5 minutes off, so the two are at most that far apart.
const CLOCK_SKEW_MAX_MS = 5 * 60_000

/** When SSM may say a command was requested: its own time when known, else around the runner's. */
export function requestedWindow(requestedAt: Date | undefined, sentAt: number): { earliest: number; latest: number } {
  const t = requestedAt?.getTime()
  if (t !== undefined && Number.isFinite(t)) return { earliest: t, latest: t }
  return { earliest: sentAt - CLOCK_SKEW_MAX_MS, latest: sentAt + CLOCK_SKEW_MAX_MS }
}

/**
 * ListCommands filters that select the commands requested between the first and the last of these
 * (a deploy's commands, and at most a few of the account's others sent meanwhile): one page.
 */
export function sentWindowFilters(windows: ReadonlyArray<{ earliest: number; latest: number }>): CommandFilter[] {
  const from = Math.min(...windows.map((w) => w.earliest)) - WINDOW_SLACK_MS
  const to = Math.max(...windows.map((w) => w.latest)) + WINDOW_SLACK_MS
  return [
    { key: 'InvokedAfter', value: new Date(from).toISOString() },
    { key: 'InvokedBefore', value: new Date(to).toISOString() }
  ]
}

/**
 * Shares an absolute max-concurrency out across the commands, so the fleet as a whole never runs
 * more instances at once than asked: each command gets max(1, floor(C × its instances / fleet)).
 * The sum of the floors never exceeds C; only when C is below the number of commands does the
 * minimum of one per command go over it (the caller is warned). A percentage applies to each
 * command's own instances, which is the same share of the fleet, so it passes as it is.
 */
export function concurrencyFor(maxConcurrency: string, batchSize: number, fleetSize: number): string {
  if (maxConcurrency.endsWith('%')) return maxConcurrency
  return String(Math.max(1, Math.floor((Number(maxConcurrency) * batchSize) / fleetSize)))
}

/**
 * max-errors over the whole fleet. Each command is sent the same value, so SSM stops a command
 * early on its own errors; whether the deploy may go on is judged here, over every instance.
 * A percentage rounds down, like SSM's own.
 */
export function allowedFailures(maxErrors: string, fleetSize: number): number {
  if (maxErrors.endsWith('%')) return Math.floor((Number(maxErrors.slice(0, -1)) * fleetSize) / 100)
  return Number(maxErrors)
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

export function clipComment(comment: string): string {
  return comment.slice(0, COMMENT_MAX)
}

const TAIL_LINES = 40
const TAIL_CHARS = 4096

/** The end of what the instance wrote: stdout, then stderr, cut to the last lines and bytes. */
export function outputTail(stdout: string, stderr: string): string {
  const out = stdout.trimEnd()
  const err = stderr.trimEnd()
  const text = out && err ? `${out}\n--- stderr ---\n${err}` : out || err
  const lines = text.split('\n')
  const tail = lines.slice(-TAIL_LINES).join('\n')
  return tail.length > TAIL_CHARS ? tail.slice(-TAIL_CHARS) : tail
}

/** How long an instance ran the document, from the listing's plugin times. */
export function listedDuration(inv: CommandInvocation | undefined): number | undefined {
  const plugins = inv?.CommandPlugins ?? []
  const starts = plugins.flatMap((p) => (p.ResponseStartDateTime ? [p.ResponseStartDateTime.getTime()] : []))
  const ends = plugins.flatMap((p) => (p.ResponseFinishDateTime ? [p.ResponseFinishDateTime.getTime()] : []))
  if (starts.length === 0 || ends.length === 0) return undefined
  return Math.max(0, Math.max(...ends) - Math.min(...starts))
}

/** Milliseconds between two of SSM's date strings, when both are there and in order. */
export function elapsed(start: string | undefined, end: string | undefined): number | undefined {
  if (!start || !end) return undefined
  const ms = Date.parse(end) - Date.parse(start)
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text
}
