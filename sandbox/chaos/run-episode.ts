// Runs one episode on a lane: stages the start state, starts traffic (plain and sticky clients),
// runs the workflow's operation with the bundled action exactly as the runner does (main step,
// then always the post step), fires the episode's faults at their moments, and records what the
// invariants judge.

import type { Action } from '@aws-sdk/client-elastic-load-balancing-v2'
import { ModifyListenerCommand, ModifyRuleCommand } from '@aws-sdk/client-elastic-load-balancing-v2'
import { defaultRuleArn } from '../aws/fixtures.js'
import { initialHealth } from '../fleet/health-checker.js'
import { startLoad, type LoadGenerator } from '../load/load-generator.js'
import { runAction, runPost, type RunActionResult } from '../run-action.js'
import { forwardWeights, type ElbAction } from '../world.js'
import {
  type Episode,
  type Fault,
  type FaultKind,
  MANUAL_ALARM,
  type Moment,
  newFleetColor,
  planRollback,
  planSecondRun,
  type RunPlan
} from './episode.js'
import { checkInvariants, type Observed, percent, type RunRecord, type Violation } from './invariants.js'
import { type Lane, locksIn, routeWeights, stage } from './lane.js'

export interface EpisodeOutcome {
  episode: Episode
  observed: Observed
  violations: Violation[]
  /** Faults whose moment came (a fault tied to a step the run never reached does not fire). */
  fired: FaultKind[]
  /** Each run's result output, e.g. `primary failed`. */
  results: string[]
  durationMs: number
  /** Each run's full log, for --verbose. */
  logs: Array<{ label: string; text: string }>
}

const RUN_TIMEOUT_MS = 120_000
const TICK_MS = 20

/** An access key id naming the run (AKIA + 16 characters), so the call log says who called. */
export function callerKey(label: string): string {
  return `AKIA${label.toUpperCase().replace(/[^A-Z0-9]/g, '')}${'X'.repeat(16)}`.slice(0, 20)
}

export async function runEpisode(lane: Lane, episode: Episode): Promise<EpisodeOutcome> {
  const began = Date.now()
  const { sb } = lane
  const world = sb.world
  await stage(lane, episode)

  const loads = startTraffic(lane, episode)
  await sleep(300)

  const startedAt = Date.now()
  const callsFrom = world.calls.length
  const changesFrom = world.weightChanges.length
  const proxyFrom = sb.loadBalancer.records.length
  const routesAtStart = routeWeights(lane)
  const newColor = newFleetColor(episode)
  const newArn = newColor ? sb.groupArn(newColor) : undefined
  const stableArn = sb.groupArn(episode.start.live)

  for (const fault of episode.faults) {
    if (fault.kind === 'throttling') world.apiFaults.throttleShare = fault.share
    if (newArn && fault.kind === 'failing-command') world.faults.failCommandOn.add(firstTarget(lane, newArn))
    if (newArn && fault.kind === 'hanging-command') world.faults.hangCommandOn.add(firstTarget(lane, newArn))
  }

  const runs: RunRecord[] = []
  const logs: Array<{ label: string; text: string }> = []
  const pending: Array<Promise<void>> = []
  const fired: FaultKind[] = []
  let cancelPrimary = false
  let runNumber = 0

  const launch = (label: string, plan: RunPlan, signals?: NodeJS.Signals[]): Promise<void> => {
    const inputs = { ...plan.inputs, ...routeInputs(lane, plan) }
    const env = {
      ...sb.env,
      AWS_ACCESS_KEY_ID: callerKey(label),
      GITHUB_RUN_ID: String(episode.seed * 10 + ++runNumber),
      GITHUB_JOB: label
    }
    const mainStarted = Date.now()
    const main = runAction({
      env,
      inputs,
      hardTimeoutMs: RUN_TIMEOUT_MS,
      ...(label === 'primary'
        ? {
            abortWhen: () => cancelPrimary,
            cancelSignals: signals,
            cancelGraceMs: signals?.[0] === 'SIGTERM' ? 2500 : 7500
          }
        : {})
    }).then(async (result) => {
      runs.push(record(label, plan, callerKey(label), false, mainStarted, result))
      logs.push({ label, text: result.stdout + result.stderr })
      // The runner always runs the post step once the main step has ended, however it ended.
      const postLabel = `post-${label}`
      const postStarted = Date.now()
      const post = await runPost(result.state, inputs, {
        env: { ...env, AWS_ACCESS_KEY_ID: callerKey(postLabel) },
        hardTimeoutMs: RUN_TIMEOUT_MS
      })
      runs.push(record(postLabel, plan, callerKey(postLabel), true, postStarted, post))
      logs.push({ label: postLabel, text: post.stdout + post.stderr })
    })
    pending.push(main)
    return main
  }

  const signalFault = episode.faults.find((f): f is Extract<Fault, { kind: 'signal' }> => f.kind === 'signal')
  const signals: NodeJS.Signals[] | undefined = signalFault
    ? signalFault.signal === 'SIGINT'
      ? ['SIGINT', 'SIGTERM', 'SIGKILL']
      : signalFault.signal === 'SIGTERM'
        ? ['SIGTERM', 'SIGKILL']
        : ['SIGKILL']
    : undefined
  const primaryDone = launch('primary', episode.primary, signals)
  let primaryEnded = false
  void primaryDone.finally(() => (primaryEnded = true))
  const primaryCaller = callerKey('primary')

  // Moments of the primary's progress, read from the call log as they happen.
  const momentAt = (m: Moment): number | undefined => {
    if (m.after === 'start') return startedAt + m.ms
    if (m.after === 'commands') {
      const sent = world.calls
        .slice(callsFrom)
        .find((c) => c.caller === primaryCaller && c.operation === 'SendCommand' && c.status === 200)
      return sent ? (sent.answeredAt ?? sent.at) + m.ms : undefined
    }
    const shifts = world.weightChanges.slice(changesFrom).filter((c) => c.caller === primaryCaller)
    const shift =
      m.step === 'first'
        ? shifts[0]
        : newArn && episode.finalPercent !== undefined
          ? shifts.find((c) => percent(c.weights, newArn) === episode.finalPercent)
          : undefined
    return shift ? shift.at + m.fraction * episode.stepWaitMs : undefined
  }

  const timed = episode.faults.filter((f) => 'at' in f || f.kind === 'second-run')
  const versions: Observed['versions'] = []
  const sampleVersions = () => {
    const byFleet = Object.fromEntries([sb.blueArn, sb.greenArn].map((arn) => [arn, fleetVersions(lane, arn)]))
    const last = versions.at(-1)
    if (!last || JSON.stringify(last.byFleet) !== JSON.stringify(byFleet)) versions.push({ at: Date.now(), byFleet })
  }
  sampleVersions()
  while (!primaryEnded) {
    sampleVersions()
    for (const fault of [...timed]) {
      const at =
        fault.kind === 'second-run' ? startedAt + fault.offsetMs : 'at' in fault ? momentAt(fault.at) : undefined
      if (at === undefined || Date.now() < at) continue
      timed.splice(timed.indexOf(fault), 1)
      if (await fire(fault)) fired.push(fault.kind)
    }
    await sleep(TICK_MS)
  }
  sampleVersions()
  for (const f of episode.faults) if (!('at' in f) && f.kind !== 'second-run') fired.push(f.kind)

  async function fire(fault: Fault): Promise<boolean> {
    switch (fault.kind) {
      case 'second-run':
        void launch('second', planSecondRun(episode, fault))
        return true
      case 'rollback-mid-hold':
        void launch('rollback', planRollback(episode))
        return true
      case 'signal':
        cancelPrimary = true
        return true
      case 'console-edit':
        return newArn ? consoleEdit(lane, stableArn, newArn, fault.allRoutes) : false
      case 'instance-joins': {
        const tg = newArn ? world.targetGroups.get(newArn) : undefined
        if (!tg) return false
        tg.targets.set(lane.spare.id, initialHealth())
        return true
      }
      case 'firing-alarm':
      case 'insufficient-data': {
        const alarm = world.alarms.get(MANUAL_ALARM)
        if (!alarm) return false
        Object.assign(alarm, {
          state: fault.kind === 'firing-alarm' ? 'ALARM' : 'INSUFFICIENT_DATA',
          reason:
            fault.kind === 'firing-alarm'
              ? 'Threshold Crossed: 1 datapoint [2.31] was greater than the threshold (0.5).'
              : 'Insufficient Data: 1 datapoint was unknown.',
          updatedAt: Date.now()
        })
        return true
      }
      default:
        return false
    }
  }

  // Runs started by faults (and every post step) may outlive the primary.
  for (let settled = 0; settled < pending.length;) {
    const batch = pending.slice(settled)
    settled = pending.length
    await Promise.all(batch)
    sampleVersions()
  }
  await sleep(400)
  const endedAt = Date.now()
  await Promise.all(loads.map((l) => l.stop()))

  const observed: Observed = {
    episode,
    arns: { blue: sb.blueArn, green: sb.greenArn, listener: sb.listenerArn },
    routesAtStart,
    startedAt,
    endedAt,
    runs: runs.sort((a, b) => a.startedAt - b.startedAt),
    consoleCaller: lane.consoleCaller,
    calls: world.calls.slice(callsFrom),
    weightChanges: world.weightChanges.slice(changesFrom),
    proxy: sb.loadBalancer.records.slice(proxyFrom).filter((r) => r.at >= startedAt && r.at <= endedAt),
    clientErrors: loads.flatMap((l) =>
      l.samples
        .filter((s) => s.status === 0 && s.at >= startedAt && s.at <= endedAt)
        .map((s) => ({ at: s.at, error: s.error ?? 'no answer' }))
    ),
    versions,
    final: {
      routes: routeWeights(lane),
      tags: Object.fromEntries(
        [sb.blueArn, sb.greenArn].map((arn) => [arn, Object.fromEntries(world.targetGroups.get(arn)?.tags ?? [])])
      ),
      locks: locksIn(world),
      instanceVersions: Object.fromEntries([sb.blueArn, sb.greenArn].map((arn) => [arn, fleetVersions(lane, arn)]))
    }
  }
  world.apiFaults.throttleShare = 0
  const results = observed.runs
    .filter((r) => !r.post)
    .map((r) => `${r.label} ${r.outputs.result || (r.signal ? `killed(${r.signal})` : `exit ${r.exitCode}`)}`)
  return {
    episode,
    observed,
    violations: checkInvariants(observed),
    fired,
    results,
    durationMs: Date.now() - began,
    logs
  }
}

/** Plain clients on the listener (and on the rule's path), plus sticky clients when stickiness is on. */
function startTraffic(lane: Lane, episode: Episode): LoadGenerator[] {
  const url = lane.sb.proxyUrl
  const generators = [startLoad({ url, rps: 25 })]
  if (episode.start.withRule) generators.push(startLoad({ url, path: '/api/orders', rps: 8 }))
  if (episode.start.stickySeconds)
    for (let i = 0; i < 4; i++) generators.push(startLoad({ url, rps: 4, keepCookies: true }))
  return generators
}

function routeInputs(lane: Lane, plan: RunPlan): Record<string, string> {
  const listeners: string[] = []
  const rules: string[] = []
  for (const route of plan.routes) {
    if (route === 'listener') listeners.push(lane.sb.listenerArn)
    if (route === 'rule') rules.push(lane.rule.arn)
    if (route === 'default-rule') rules.push(defaultRuleArn(lane.sb.listenerArn))
  }
  return { 'listener-arns': listeners.join(','), 'rule-arns': rules.join(',') }
}

/** A person sets all traffic back on the stable fleet in the console, on one route or all. */
async function consoleEdit(lane: Lane, stable: string, newFleet: string, allRoutes: boolean): Promise<boolean> {
  const { sb } = lane
  const listener = sb.world.listeners.get(sb.listenerArn)
  if (!listener || (forwardWeights(listener.defaultActions)[newFleet] ?? 0) === 0) return false
  const edit = (actions: ElbAction[]): Action[] =>
    actions.map((a) =>
      a.Type === 'forward'
        ? ({
            ...a,
            TargetGroupArn: undefined,
            ForwardConfig: {
              ...a.ForwardConfig,
              TargetGroups: [
                { TargetGroupArn: stable, Weight: 100 },
                { TargetGroupArn: newFleet, Weight: 0 }
              ]
            }
          } as Action)
        : (a as Action)
    )
  await lane.console.send(
    new ModifyListenerCommand({ ListenerArn: listener.arn, DefaultActions: edit(listener.defaultActions) })
  )
  const rule = sb.world.rules.get(lane.rule.arn)
  if (allRoutes && rule)
    await lane.console.send(new ModifyRuleCommand({ RuleArn: rule.arn, Actions: edit(rule.actions) }))
  return true
}

function firstTarget(lane: Lane, arn: string): string {
  return [...(lane.sb.world.targetGroups.get(arn)?.targets.keys() ?? [])].sort()[0]
}

function fleetVersions(lane: Lane, arn: string): string[] {
  const ids = [...(lane.sb.world.targetGroups.get(arn)?.targets.keys() ?? [])].sort()
  return ids.map((id) => lane.sb.fleet.app(id)?.version ?? 'unknown')
}

function record(
  label: string,
  plan: RunPlan,
  caller: string,
  post: boolean,
  startedAt: number,
  result: RunActionResult
): RunRecord {
  return {
    label,
    caller,
    operation: plan.operation,
    post,
    startedAt,
    endedAt: startedAt + result.durationMs,
    exitCode: result.exitCode,
    signal: result.signal,
    outputs: result.outputs,
    alerts: result.stdout.split('\n').filter((line) => /^::(error|warning)/.test(line))
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
