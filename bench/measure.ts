// What the benchmark reports about one deploy, computed from what the sandbox recorded: every API
// call (world.calls, with the time the request arrived and the time its answer was computed) and
// every SSM invocation's real start and finish (world.commands). Pure functions over plain data.

import type { ApiCall, Command } from '../sandbox/world.js'
import { floorMs, medianAnswerMs, span, type Span, waves } from './critical-path.js'

/** One deploy as observed from outside the controller's process. */
export interface RunObservation {
  /** When the controller's process was spawned and when it exited (epoch ms). */
  spawnedAt: number
  exitedAt: number
  exitCode: number | null
  /** The API calls made during the run, in arrival order. */
  calls: ApiCall[]
  /** The SSM commands the run sent. */
  commands: Command[]
  /** Health detection the deployed group's settings imply: HealthCheckIntervalSeconds × UnhealthyThresholdCount. */
  healthDetectionMs: number
  /** Peak resident memory of the process (VmHWM), bytes; undefined if never read. */
  peakRssBytes?: number
}

export interface Phases {
  /** spawn → first API request */
  start: number
  /** first request → first SendCommand */
  setup: number
  /** first SendCommand → last invocation finished (unavoidable) */
  commands: number
  /** last invocation finished → the controller knew every invocation was done */
  detect: number
  /** knew it was done → ModifyListener (the health wait, unavoidable up to healthDetectionMs) */
  health: number
  /** ModifyListener → process exit (read-back, records, lock, summary) */
  finish: number
}

export interface RunMetrics {
  wallMs: number
  unavoidableMs: number
  overheadMs: number
  phases: Phases
  coldStartMs: number
  calls: number
  callsByOperation: Record<string, number>
  ssmCalls: number
  /** Poll rounds over the command statuses and the SSM calls in each. */
  pollRounds: number
  ssmCallsPerRoundMax: number
  ssmCallsPerRoundMedian: number
  /** Most SSM calls that arrived within any one second. */
  ssmPeakPerSecond: number
  /** GetCommandInvocation calls for instances whose invocation succeeded. */
  perInstanceCallsForSucceeded: number
  /** Last invocation finished → the first status answer after it that showed every invocation done. */
  detectLastMs: number
  /** Per invocation: finish → first status answer covering it computed after it finished. */
  detectMedianMs: number
  detectP95Ms: number
  peakRssMb?: number
  /** Requests before the first SendCommand, and from ModifyListener on (each one a round trip when in series). */
  callsBeforeSend: number
  callsFromFlip: number
  /** First request → first SendCommand, and ModifyListener → exit: round trips in series and the gaps between. */
  setupSpan: Span
  finishSpan: Span
  /** The sandbox's median time to answer a request, and the floor: process start + the sequential round trips. */
  answerMs: number
  floorMs: number
  invocations: number
  succeeded: number
}

const STATUS_OPERATIONS = new Set(['ListCommands', 'ListCommandInvocations', 'GetCommandInvocation'])

export function measure(run: RunObservation): RunMetrics {
  const { calls } = run
  const invocations = run.commands.flatMap((c) =>
    [...c.invocations.values()].map((inv) => ({ commandId: c.commandId, inv }))
  )
  const firstCall = calls[0]?.at ?? run.exitedAt
  const firstSend = calls.find((c) => c.operation === 'SendCommand')?.at ?? firstCall
  const lastFinish = Math.max(firstSend, ...invocations.map(({ inv }) => inv.finishedAt ?? run.exitedAt))
  const flip = calls.find((c) => c.operation === 'ModifyListener')?.at ?? run.exitedAt

  // When the controller could first know each invocation was final: the first answer to a status
  // request covering that invocation, computed at or after its finish.
  const byCommand = new Map<string, number[]>()
  const byInvocation = new Map<string, number[]>()
  for (const c of calls) {
    if (!STATUS_OPERATIONS.has(c.operation) || c.status !== 200) continue
    const p = (c.params ?? {}) as { CommandId?: string; InstanceId?: string }
    const answered = c.answeredAt ?? c.at
    if (c.operation === 'ListCommands' && !p.CommandId) {
      // One listing covers every command of the run in its time window that SSM knew by then.
      for (const command of commandsListed(run.commands, c)) push(byCommand, command, answered)
    } else if (c.operation !== 'GetCommandInvocation' && p.CommandId && !p.InstanceId)
      push(byCommand, p.CommandId, answered)
    else if (p.CommandId && p.InstanceId) push(byInvocation, `${p.CommandId} ${p.InstanceId}`, answered)
  }
  const latencies: number[] = []
  let knewAllAt = lastFinish
  for (const { commandId, inv } of invocations) {
    const finished = inv.finishedAt ?? run.exitedAt
    const seen = Math.min(
      firstAtOrAfter(byCommand.get(commandId), finished),
      firstAtOrAfter(byInvocation.get(`${commandId} ${inv.instanceId}`), finished)
    )
    const at = Number.isFinite(seen) ? seen : run.exitedAt
    latencies.push(at - finished)
    knewAllAt = Math.max(knewAllAt, at)
  }
  latencies.sort((a, b) => a - b)

  const ssm = calls.filter((c) => c.service === 'ssm')
  const rounds = pollRounds(ssm)
  const succeeded = new Set(
    invocations
      .filter(({ inv }) => inv.status === 'Success')
      .map(({ commandId, inv }) => `${commandId} ${inv.instanceId}`)
  )
  const perInstanceForSucceeded = calls.filter((c) => {
    if (c.operation !== 'GetCommandInvocation') return false
    const p = (c.params ?? {}) as { CommandId?: string; InstanceId?: string }
    return succeeded.has(`${p.CommandId} ${p.InstanceId}`)
  }).length

  const wallMs = run.exitedAt - run.spawnedAt
  const unavoidableMs = lastFinish - firstSend + run.healthDetectionMs
  const phases: Phases = {
    start: firstCall - run.spawnedAt,
    setup: firstSend - firstCall,
    commands: lastFinish - firstSend,
    detect: knewAllAt - lastFinish,
    health: flip - knewAllAt,
    finish: run.exitedAt - flip
  }
  const all = waves(calls)
  const answerMs = medianAnswerMs(calls)
  const callsByOperation: Record<string, number> = {}
  for (const c of calls) callsByOperation[c.operation] = (callsByOperation[c.operation] ?? 0) + 1
  return {
    wallMs,
    unavoidableMs,
    overheadMs: wallMs - unavoidableMs,
    phases,
    coldStartMs: phases.start,
    calls: calls.length,
    callsByOperation,
    ssmCalls: ssm.length,
    pollRounds: rounds.length,
    ssmCallsPerRoundMax: Math.max(0, ...rounds),
    ssmCallsPerRoundMedian: quantile(
      [...rounds].sort((a, b) => a - b),
      0.5
    ),
    ssmPeakPerSecond: peakInWindow(
      ssm.map((c) => c.at),
      1000
    ),
    perInstanceCallsForSucceeded: perInstanceForSucceeded,
    detectLastMs: knewAllAt - lastFinish,
    detectMedianMs: quantile(latencies, 0.5),
    detectP95Ms: quantile(latencies, 0.95),
    peakRssMb: run.peakRssBytes === undefined ? undefined : run.peakRssBytes / 2 ** 20,
    callsBeforeSend: calls.filter((c) => c.at < firstSend).length,
    callsFromFlip: calls.filter((c) => c.at >= flip).length,
    setupSpan: span(all, firstCall, firstSend),
    finishSpan: span(all, flip, run.exitedAt),
    answerMs,
    floorMs: floorMs(phases.start, answerMs),
    invocations: invocations.length,
    succeeded: succeeded.size
  }
}

/** The run's commands a ListCommands call without CommandId covered: sent by then, in its time filters. */
export function commandsListed(commands: Command[], call: ApiCall): string[] {
  const filters = ((call.params ?? {}) as { Filters?: Array<{ key?: string; value?: string }> }).Filters ?? []
  const after = filters.find((f) => f.key === 'InvokedAfter')?.value
  const before = filters.find((f) => f.key === 'InvokedBefore')?.value
  return commands
    .filter(
      (c) =>
        c.requestedAt <= (call.answeredAt ?? call.at) &&
        (after === undefined || c.requestedAt >= Date.parse(after)) &&
        (before === undefined || c.requestedAt <= Date.parse(before))
    )
    .map((c) => c.commandId)
}

/**
 * SSM calls per poll round. A round asks once about each thing still pending, so a round ends
 * where a status request repeats one already asked in it (same command, or same command and
 * instance for per-instance calls). A CancelCommand between status requests counts in the round it
 * falls in; sends before the first status request are not part of any round. Parameter Store and
 * instance information calls are SSM too but not the poll's: the pair's lock is read before each
 * change and renewed on its own schedule, and joiners are checked for readiness. They are counted
 * in the SSM totals, not in rounds.
 */
export function pollRounds(ssmCalls: ApiCall[]): number[] {
  const rounds: number[] = []
  let asked = new Set<string>()
  let current = 0
  let started = false
  // Polling follows the first send; calls before it (readiness checks, a permission probe) are not rounds.
  const firstSend = ssmCalls.findIndex((c) => c.operation === 'SendCommand')
  for (const c of firstSend < 0 ? [] : ssmCalls.slice(firstSend)) {
    if (STATUS_OPERATIONS.has(c.operation)) {
      const p = (c.params ?? {}) as { CommandId?: string; InstanceId?: string; NextToken?: string }
      const key = `${c.operation} ${p.CommandId ?? '*'} ${p.InstanceId ?? '*'} ${p.NextToken ?? ''}`
      if (started && asked.has(key)) {
        rounds.push(current)
        asked = new Set()
        current = 0
      }
      started = true
      asked.add(key)
      current++
    } else if (started && c.operation === 'CancelCommand') {
      current++
    }
  }
  if (started) rounds.push(current)
  return rounds
}

export function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))
  return sorted[i]
}

function peakInWindow(times: number[], windowMs: number): number {
  let peak = 0
  let lo = 0
  for (let hi = 0; hi < times.length; hi++) {
    while (times[hi] - times[lo] >= windowMs) lo++
    peak = Math.max(peak, hi - lo + 1)
  }
  return peak
}

function push(map: Map<string, number[]>, key: string, value: number): void {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}

/** First value ≥ t in an ascending list (calls are recorded in arrival order; answers follow it closely). */
function firstAtOrAfter(values: number[] | undefined, t: number): number {
  if (!values) return Infinity
  let best = Infinity
  for (const v of values) if (v >= t && v < best) best = v
  return best
}
