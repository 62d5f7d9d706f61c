// One episode of the chaos soak, drawn from its seed alone: where traffic stands at the start,
// which operation the workflow runs, and which faults hit it and when. Pure: the same seed
// always gives the same episode, so `npm run chaos -- --seed N --runs 1` replays one.

import type { AppBehaviour } from '../world.js'
import { Rng } from './random.js'

export type Operation = 'deploy' | 'promote' | 'rollback' | 'status'
export type Color = 'blue' | 'green'

export interface StartState {
  /**
   * stable: one fleet takes everything, the other holds the previous release;
   * paused-canary: a deploy paused part-way, the new fleet recorded canary;
   * staged-canary: the idle fleet is recorded canary at 0% (a deploy with canary-steps 0, or
   *   one whose final record write was lost: the two look the same, and are treated alike);
   * failed-idle: the idle fleet holds a failed deploy.
   */
  kind: 'stable' | 'paused-canary' | 'staged-canary' | 'failed-idle'
  /** The stable fleet: all traffic, or the larger share mid-canary. */
  live: Color
  /** Percent of traffic on the other fleet (above 0 only for a paused canary). */
  canaryPercent: number
  /** Target group stickiness on the routes, in seconds; undefined: off. */
  stickySeconds?: number
  /** A listener rule (path /api/*) forwards to the pair too. */
  withRule: boolean
  liveVersion: string
  /** What the other fleet runs: the previous release, the canary, or a failed deploy. */
  otherVersion: string
  otherRole: 'previous' | 'canary' | 'failed'
  /** How the other fleet's app behaves ('errors': a bad canary waiting for promote). */
  otherBehaviour: AppBehaviour
}

/** When a timed fault fires, in terms of the primary run's progress. */
export type Moment =
  | { after: 'start'; ms: number }
  /** After the primary's first SendCommand. */
  | { after: 'commands'; ms: number }
  /** A fraction of step-wait after the primary's first (or last planned) weight change. */
  | { after: 'shift'; step: 'first' | 'last'; fraction: number }

export type BadSetting = 'health-timeout' | 'default-rule' | 'unlisted-route'

export type Fault =
  | { kind: 'second-run'; operation: Operation; offsetMs: number; lockWait: string }
  | { kind: 'rollback-mid-hold'; at: Moment }
  | { kind: 'console-edit'; at: Moment; allRoutes: boolean }
  | { kind: 'instance-joins'; at: Moment }
  | { kind: 'signal'; signal: 'SIGINT' | 'SIGTERM' | 'SIGKILL'; at: Moment }
  | { kind: 'throttling'; share: number }
  | { kind: 'failing-command' }
  | { kind: 'hanging-command' }
  | { kind: 'unhealthy-version' }
  | { kind: 'bad-version' }
  | { kind: 'firing-alarm'; at: Moment }
  | { kind: 'insufficient-data'; at: Moment }
  | { kind: 'bad-setting'; setting: BadSetting }

export type FaultKind = Fault['kind']

/** Which routes the workflow names: the listener, the /api rule, the listener's default rule. */
export type RouteInput = 'listener' | 'rule' | 'default-rule'

export interface RunPlan {
  operation: Operation
  /** Inputs other than the routes (the lane knows their ARNs). */
  inputs: Record<string, string>
  routes: RouteInput[]
}

export interface Episode {
  seed: number
  start: StartState
  primary: RunPlan
  stepWaitMs: number
  /** Percent on the new fleet at the primary's last planned step (deploy and promote). */
  finalPercent?: number
  faults: Fault[]
}

export const ALARMS = 'web-blue-5xx,web-green-5xx,web-p99'
/** The alarm no metric drives: the soak sets its state by hand ('a firing alarm'). */
export const MANUAL_ALARM = 'web-p99'

export function other(color: Color): Color {
  return color === 'blue' ? 'green' : 'blue'
}

export function deployCommands(version: string, behaviour: AppBehaviour): string {
  return `echo ${version} > version && echo ${behaviour} > behaviour && ./restart`
}

/** The fleet a deploy or promote in this episode moves traffic to (none for a plain rollback). */
export function newFleetColor(episode: Episode): Color | undefined {
  if (episode.start.kind === 'stable' && episode.primary.operation === 'rollback') return undefined
  return other(episode.start.live)
}

export function drawEpisode(seed: number): Episode {
  const rng = new Rng(seed)
  const start = drawStart(rng, seed)
  const operation = drawOperation(rng, start)
  const stepWaitMs = rng.pick([600, 800, 1000, 1200])
  const primary = planRun(rng, operation, seed, 'new', stepWaitMs, start)
  const episode: Episode = { seed, start, primary, stepWaitMs, faults: [] }
  episode.finalPercent = finalPercent(primary, start)
  episode.faults = drawFaults(rng, episode)
  applySettings(episode)
  return episode
}

function drawStart(rng: Rng, seed: number): StartState {
  const kind = rng.weighted([
    ['stable', 55],
    ['paused-canary', 30],
    ['staged-canary', 8],
    ['failed-idle', 7]
  ] as const)
  const live = rng.pick(['blue', 'green'] as const)
  return {
    kind,
    live,
    canaryPercent: kind === 'paused-canary' ? rng.pick([10, 25, 50]) : 0,
    stickySeconds: rng.chance(0.35) ? rng.pick([60, 3600]) : undefined,
    withRule: rng.chance(0.4),
    liveVersion: `s${seed}-live`,
    otherVersion: `s${seed}-${kind === 'stable' ? 'prev' : kind === 'failed-idle' ? 'failed' : 'canary'}`,
    otherRole: kind === 'stable' ? 'previous' : kind === 'failed-idle' ? 'failed' : 'canary',
    otherBehaviour: 'ok'
  }
}

function drawOperation(rng: Rng, start: StartState): Operation {
  switch (start.kind) {
    case 'stable':
      return rng.weighted([
        ['deploy', 65],
        ['rollback', 15],
        ['status', 10],
        ['promote', 10]
      ] as const)
    case 'paused-canary':
      return rng.weighted([
        ['promote', 60],
        ['rollback', 25],
        ['deploy', 8],
        ['status', 7]
      ] as const)
    case 'staged-canary':
      return rng.weighted([
        ['rollback', 40],
        ['promote', 35],
        ['deploy', 15],
        ['status', 10]
      ] as const)
    case 'failed-idle':
      return rng.weighted([
        ['deploy', 50],
        ['rollback', 35],
        ['status', 15]
      ] as const)
  }
}

/** The inputs of one run; `label` tells apart the versions of concurrent deploys. */
function planRun(
  rng: Rng,
  operation: Operation,
  seed: number,
  label: string,
  stepWaitMs: number,
  start: StartState
): RunPlan {
  const routes: RouteInput[] = start.withRule ? ['listener', 'rule'] : ['listener']
  const common = { operation, alarms: ALARMS, 'step-wait': `${stepWaitMs}ms`, timeout: '90s' }
  if (operation === 'deploy') {
    const version = `s${seed}-${label}`
    const canary = rng.chance(0.7)
    return {
      operation,
      routes,
      inputs: {
        ...common,
        version,
        commands: deployCommands(version, 'ok'),
        strategy: canary ? 'canary' : 'all-at-once',
        ...(canary ? { 'canary-steps': rng.pick(['10,50,100', '25,100', '50,100', '10', '10,50']) } : {}),
        'health-timeout': '15s',
        'command-timeout': '8s'
      }
    }
  }
  if (operation === 'promote') {
    return { operation, routes, inputs: { ...common, 'canary-steps': rng.pick(['10,50,100', '50,100', '25,75,100']) } }
  }
  return { operation, routes, inputs: { operation } }
}

/** Where the primary's traffic steps end, in percent on the new fleet. */
function finalPercent(plan: RunPlan, start: StartState): number | undefined {
  if (plan.operation === 'promote')
    return start.kind === 'paused-canary' || start.kind === 'staged-canary' ? 100 : undefined
  if (plan.operation !== 'deploy' || start.kind === 'paused-canary' || start.kind === 'staged-canary') return undefined
  if (plan.inputs.strategy !== 'canary') return 100
  return Number(plan.inputs['canary-steps'].split(',').at(-1))
}

const FAULT_WEIGHTS: Record<Operation, ReadonlyArray<readonly [FaultKind, number]>> = {
  deploy: [
    ['second-run', 14],
    ['rollback-mid-hold', 12],
    ['console-edit', 10],
    ['instance-joins', 10],
    ['signal', 14],
    ['throttling', 8],
    ['failing-command', 6],
    ['hanging-command', 5],
    ['unhealthy-version', 5],
    ['bad-version', 6],
    ['firing-alarm', 6],
    ['insufficient-data', 3],
    ['bad-setting', 5]
  ],
  promote: [
    ['second-run', 16],
    ['rollback-mid-hold', 16],
    ['console-edit', 12],
    ['instance-joins', 8],
    ['signal', 18],
    ['throttling', 8],
    ['bad-version', 8],
    ['firing-alarm', 8],
    ['insufficient-data', 4]
  ],
  rollback: [
    ['second-run', 40],
    ['signal', 30],
    ['throttling', 30]
  ],
  status: [
    ['second-run', 50],
    ['throttling', 50]
  ]
}

// Faults that cannot meet in one episode: one version cannot be both unhealthy and answer 5xx,
// and an input refused up front leaves nothing for the other faults to hit.
const EXCLUSIVE: ReadonlyArray<readonly FaultKind[]> = [['unhealthy-version', 'bad-version']]

function drawFaults(rng: Rng, episode: Episode): Fault[] {
  const operation = episode.primary.operation
  const count = rng.weighted([
    [0, 15],
    [1, 45],
    [2, 30],
    [3, 10]
  ] as const)
  const kinds: FaultKind[] = []
  for (let i = 0; i < count; i++) {
    const candidates = FAULT_WEIGHTS[operation].filter(([kind]) => {
      if (kinds.includes(kind) || kinds.includes('bad-setting')) return false
      if (kind === 'bad-setting' && kinds.length > 0) return false
      return !EXCLUSIVE.some((group) => group.includes(kind) && group.some((k) => kinds.includes(k)))
    })
    if (candidates.length === 0) break
    kinds.push(rng.weighted(candidates))
  }
  return kinds.map((kind) => drawFault(rng, kind, episode))
}

function drawFault(rng: Rng, kind: FaultKind, episode: Episode): Fault {
  const operation = episode.primary.operation
  const shift = (): Moment => ({
    after: 'shift',
    step: rng.pick(['first', 'last'] as const),
    fraction: rng.float(0.05, 0.9)
  })
  const anyMoment = (): Moment =>
    rng.weighted<Moment>([
      [{ after: 'start', ms: rng.int(150, 1500) }, 1],
      [{ after: 'commands', ms: rng.int(0, 1500) }, operation === 'deploy' ? 1 : 0],
      [shift(), 2]
    ])
  switch (kind) {
    case 'second-run': {
      const second =
        operation === 'deploy'
          ? rng.weighted([
              ['deploy', 60],
              ['rollback', 15],
              ['promote', 10],
              ['status', 15]
            ] as const)
          : operation === 'promote'
            ? rng.weighted([
                ['promote', 50],
                ['deploy', 20],
                ['rollback', 20],
                ['status', 10]
              ] as const)
            : operation === 'rollback'
              ? rng.weighted([
                  ['rollback', 60],
                  ['status', 40]
                ] as const)
              : rng.weighted([
                  ['deploy', 40],
                  ['promote', 20],
                  ['rollback', 20],
                  ['status', 20]
                ] as const)
      // Half the time nearly together: the race two workflows on one push would run.
      const offsetMs = rng.chance(0.5) ? rng.int(0, 60) : rng.int(60, 3000)
      return { kind, operation: second, offsetMs, lockWait: rng.pick(['', '', '3s']) }
    }
    case 'rollback-mid-hold':
      return { kind, at: shift() }
    case 'console-edit':
      return { kind, at: shift(), allRoutes: rng.chance(0.7) }
    case 'instance-joins':
      return {
        kind,
        at:
          operation === 'deploy' && rng.chance(0.5)
            ? { after: 'commands', ms: rng.int(0, 1500) }
            : { after: 'shift', step: 'first', fraction: rng.float(0.05, 0.5) }
      }
    case 'signal':
      return {
        kind,
        signal: rng.weighted([
          ['SIGINT', 45],
          ['SIGTERM', 20],
          ['SIGKILL', 35]
        ] as const),
        at: anyMoment()
      }
    case 'throttling':
      return { kind, share: rng.pick([0.15, 0.3]) }
    case 'firing-alarm':
    case 'insufficient-data':
      return { kind, at: anyMoment() }
    case 'bad-setting':
      return { kind, setting: rng.pick(['health-timeout', 'default-rule', 'unlisted-route'] as const) }
    default:
      return { kind } as Fault
  }
}

/** Faults that change the run's own inputs or the start (rather than act on it while it runs). */
function applySettings(episode: Episode): void {
  const { primary, start } = episode
  for (const fault of episode.faults) {
    if (fault.kind === 'hanging-command') primary.inputs['command-timeout'] = '3s'
    if (fault.kind === 'unhealthy-version' && primary.operation === 'deploy') {
      primary.inputs.commands = deployCommands(primary.inputs.version, 'unhealthy')
    }
    if (fault.kind === 'bad-version') {
      if (primary.operation === 'deploy') primary.inputs.commands = deployCommands(primary.inputs.version, 'errors')
      else start.otherBehaviour = 'errors'
    }
    if (fault.kind === 'bad-setting') {
      if (fault.setting === 'health-timeout') primary.inputs['health-timeout'] = '1500ms'
      if (fault.setting === 'default-rule') primary.routes = ['default-rule']
      if (fault.setting === 'unlisted-route') {
        start.withRule = true
        primary.routes = ['listener']
      }
    }
  }
}

/** Versions whose fleet's deploy failed before the episode started: none may ever answer. */
export function undoneAtStart(start: StartState): string[] {
  return start.kind === 'failed-idle' ? [start.otherVersion] : []
}

/** Versions that answer 5xx by design in this episode: their 500s are the fault, not a loss. */
export function erroringVersions(episode: Episode): string[] {
  if (!episode.faults.some((f) => f.kind === 'bad-version')) return []
  return episode.primary.operation === 'deploy' ? [episode.primary.inputs.version] : [episode.start.otherVersion]
}

export function describeMoment(m: Moment): string {
  if (m.after === 'shift') return `${Math.round(m.fraction * 100)}% into the ${m.step} step's hold`
  return `${m.ms}ms after ${m.after === 'start' ? 'the start' : 'the commands went out'}`
}

export function describeFault(f: Fault): string {
  switch (f.kind) {
    case 'second-run':
      return `second-run(${f.operation} +${f.offsetMs}ms${f.lockWait ? ` lock-wait ${f.lockWait}` : ''})`
    case 'signal':
      return `${f.signal}(${describeMoment(f.at)})`
    case 'throttling':
      return `throttling(${Math.round(f.share * 100)}%)`
    case 'bad-setting':
      return `bad-setting(${f.setting})`
    case 'rollback-mid-hold':
    case 'console-edit':
    case 'instance-joins':
    case 'firing-alarm':
    case 'insufficient-data':
      return `${f.kind}(${describeMoment(f.at)})`
    default:
      return f.kind
  }
}

export function describeEpisode(e: Episode): string {
  const s = e.start
  const where =
    s.kind === 'paused-canary'
      ? `${s.live} ${100 - s.canaryPercent}/${other(s.live)} ${s.canaryPercent}`
      : `${s.live} live, ${other(s.live)} ${s.otherRole}`
  const extras = [s.stickySeconds ? `sticky ${s.stickySeconds}s` : '', s.withRule ? '+rule' : '']
    .filter(Boolean)
    .join(' ')
  const steps =
    e.primary.inputs.strategy === 'canary'
      ? ` ${e.primary.inputs['canary-steps']}`
      : e.primary.operation === 'promote'
        ? ` ${e.primary.inputs['canary-steps']}`
        : ''
  const faults = e.faults.length > 0 ? e.faults.map(describeFault).join(', ') : 'no fault'
  return `${s.kind} (${where}${extras ? `, ${extras}` : ''}) → ${e.primary.operation}${steps}; ${faults}`
}

/** The concurrent run of a 'second-run' fault: another workflow, on the same routes. */
export function planSecondRun(episode: Episode, fault: Extract<Fault, { kind: 'second-run' }>): RunPlan {
  const { primary, seed, stepWaitMs } = episode
  const lockWait: Record<string, string> = fault.lockWait ? { 'lock-wait': fault.lockWait } : {}
  const common = {
    operation: fault.operation,
    alarms: ALARMS,
    'step-wait': `${stepWaitMs}ms`,
    timeout: '90s',
    ...lockWait
  }
  if (fault.operation === 'deploy') {
    const version = `s${seed}-second`
    return {
      operation: 'deploy',
      routes: primary.routes,
      inputs: {
        ...common,
        version,
        commands: deployCommands(version, 'ok'),
        strategy: 'canary',
        'canary-steps': primary.inputs['canary-steps'] ?? '50,100',
        'health-timeout': '15s',
        'command-timeout': '8s'
      }
    }
  }
  if (fault.operation === 'promote')
    return { operation: 'promote', routes: primary.routes, inputs: { ...common, 'canary-steps': '50,100' } }
  return { operation: fault.operation, routes: primary.routes, inputs: { operation: fault.operation, ...lockWait } }
}

/** A rollback dispatched by hand while the primary holds a step. */
export function planRollback(episode: Episode): RunPlan {
  return { operation: 'rollback', routes: episode.primary.routes, inputs: { operation: 'rollback' } }
}
