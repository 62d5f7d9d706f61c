// What must hold after every episode of the chaos soak, whatever the faults did. Pure: it judges
// what the sandbox recorded (every API call with its caller and order, every weight change, every
// request the proxy served with the version that answered, what each run printed and output).
//
// Weight changes, API calls and proxy records all happen in the one sandbox process, so their
// order is exact: a request the proxy routed after a weight change saw that change. GRACE_MS only
// absorbs requests that were already being routed in the same millisecond.

import type { ProxyRecord } from '../proxy/load-balancer.js'
import type { ApiCall, WeightChange } from '../world.js'
import { type Episode, newFleetColor, type Operation, undoneAtStart, erroringVersions } from './episode.js'

export const GRACE_MS = 50

export type Weights = Record<string, number>

export interface RunRecord {
  /** 'primary', 'second', 'rollback', or 'post-<label>' for the post step of one of those. */
  label: string
  /** The access key it signed its calls with. */
  caller: string
  operation: Operation
  post: boolean
  startedAt: number
  endedAt: number
  exitCode: number | null
  signal: string | null
  outputs: Record<string, string>
  /** Every ::error:: and ::warning:: line it printed. */
  alerts: string[]
}

export interface Observed {
  episode: Episode
  arns: { blue: string; green: string; listener: string }
  /** Every route that forwards to the pair (listed or not) with its pair weights at the start. */
  routesAtStart: Record<string, Weights>
  startedAt: number
  endedAt: number
  runs: RunRecord[]
  /** The access key of the person editing weights in the console. */
  consoleCaller: string
  calls: ApiCall[]
  weightChanges: WeightChange[]
  proxy: ProxyRecord[]
  /** Requests the load generators saw fail without an HTTP answer (connection errors, timeouts). */
  clientErrors: Array<{ at: number; error: string }>
  /** The versions each fleet's registered instances ran, sampled whenever they changed. */
  versions: Array<{ at: number; byFleet: Record<string, string[]> }>
  final: {
    routes: Record<string, Weights>
    tags: Record<string, Record<string, string>>
    /** Every lock record left behind (tag values, lock parameters), empty when free. */
    locks: string[]
    /** The version every registered instance of each fleet runs at the end. */
    instanceVersions: Record<string, string[]>
  }
}

export interface Violation {
  invariant: string
  detail: string
}

// Lines with which a run says out loud that AWS is not as it should be.
const LOUD =
  /NOT restored|restoring the weights FAILED|Could not restore|may still reach|run rollback now|disagree|Could not record|stale records|changed by someone else/i

export function checkInvariants(o: Observed): Violation[] {
  return [
    ...undoneServed(o),
    ...hiddenTraffic(o),
    ...exclusive(o),
    ...reportedWeights(o),
    ...routesAgree(o),
    ...recordsMatch(o),
    ...lockFree(o),
    ...lossless(o),
    ...refusedBeforeChange(o)
  ]
}

// ---- helpers -----------------------------------------------------------------------------------

const ROUTE_READS = new Set(['DescribeListeners', 'DescribeRules'])

function isLockCall(call: ApiCall): boolean {
  const p = (call.params ?? {}) as Record<string, unknown>
  if (call.operation === 'AddTags') return tagKeys(p.Tags).every((k) => k === 'bluegreen:lock')
  if (call.operation === 'RemoveTags') return strings(p.TagKeys).every((k) => k === 'bluegreen:lock')
  if (/^(PutParameter|DeleteParameter|GetParameter)$/.test(call.operation)) return /\/lock$/.test(String(p.Name ?? ''))
  return false
}

/** A call that changed traffic, commands, targets or records (not a read, not the lock). */
export function isMutation(call: ApiCall): boolean {
  if (call.status !== 200) return false
  if (/^(ModifyListener|ModifyRule|SendCommand|RegisterTargets|DeregisterTargets)$/.test(call.operation)) return true
  if (/^(AddTags|RemoveTags|PutParameter|DeleteParameter|DeleteParameters)$/.test(call.operation))
    return !isLockCall(call)
  return false
}

function isRecordWrite(call: ApiCall): boolean {
  return /^(AddTags|RemoveTags|PutParameter|DeleteParameter|DeleteParameters)$/.test(call.operation)
}

/** A call that changed anything at all, the lock included. */
function changesAnything(call: ApiCall): boolean {
  return call.status === 200 && (isMutation(call) || (isLockCall(call) && call.operation !== 'GetParameter'))
}

function tagKeys(value: unknown): string[] {
  return (Array.isArray(value) ? value : value ? [value] : []).map((t) => String((t as { Key?: string })?.Key ?? ''))
}

function strings(value: unknown): string[] {
  return (Array.isArray(value) ? value : value ? [value] : []).map(String)
}

export function percent(weights: Weights, arn: string): number {
  const total = Object.values(weights).reduce((a, b) => a + b, 0)
  return total === 0 ? 0 : Math.round(((weights[arn] ?? 0) / total) * 100)
}

function pairOf(o: Observed): [string, string] {
  return [o.arns.blue, o.arns.green]
}

function name(o: Observed, arn: string): string {
  return arn === o.arns.blue ? 'web-blue' : arn === o.arns.green ? 'web-green' : arn
}

function rel(o: Observed, at: number): string {
  return `+${((at - o.startedAt) / 1000).toFixed(2)}s`
}

function describe(o: Observed, weights: Weights): string {
  return pairOf(o)
    .map((arn) => `${name(o, arn)} ${percent(weights, arn)}`)
    .join('/')
}

function labelOf(o: Observed, caller: string | undefined): string {
  if (caller === o.consoleCaller) return 'a person in the console'
  const run = o.runs.find((r) => r.caller === caller)
  return run ? `${run.label} (${run.operation})` : `caller ${caller ?? 'unknown'}`
}

function runOf(label: string): string {
  return label.replace(/^post-/, '')
}

function isLoud(run: RunRecord): boolean {
  return run.alerts.some((line) => LOUD.test(line))
}

/** Pair weights of every route after each weight change, in the order the changes took effect. */
function routeStates(o: Observed): Array<{ change?: WeightChange; routes: Record<string, Weights> }> {
  const pair = pairOf(o)
  let routes = structuredClone(o.routesAtStart)
  const states: Array<{ change?: WeightChange; routes: Record<string, Weights> }> = [{ routes }]
  for (const change of [...o.weightChanges].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0) || a.at - b.at)) {
    if (!(change.routeArn in routes)) continue
    routes = { ...routes, [change.routeArn]: Object.fromEntries(pair.map((arn) => [arn, change.weights[arn] ?? 0])) }
    states.push({ change, routes })
  }
  return states
}

function routesAtSeq(o: Observed, seq: number): Record<string, Weights> {
  let current = o.routesAtStart
  for (const state of routeStates(o)) {
    if (state.change && (state.change.seq ?? 0) > seq) break
    current = state.routes
  }
  return current
}

function versionsAt(o: Observed, fleet: string, at: number): string[] {
  let found: string[] = []
  for (const sample of o.versions) {
    if (sample.at > at) break
    found = sample.byFleet[fleet] ?? []
  }
  return found
}

/** The route (listed rule, else the listener) that answered a request. */
function routeOf(o: Observed, r: ProxyRecord): string {
  return r.ruleArn && r.ruleArn in o.routesAtStart ? r.ruleArn : r.listenerArn
}

// ---- the invariants ----------------------------------------------------------------------------

/**
 * No request is answered by a version after it was undone: a version undone before the episode
 * (a failed deploy, an aborted canary) at any time, and the new fleet's version once a restore, a
 * rollback or a person took all traffic off it.
 */
export function undoneServed(o: Observed): Violation[] {
  const undone: Array<{ version: string; at: number; by: string; console?: boolean }> = undoneAtStart(
    o.episode.start
  ).map((version) => ({
    version,
    at: o.startedAt - GRACE_MS,
    by: 'the start state'
  }))
  const color = newFleetColor(o.episode)
  const fleet = color ? o.arns[color] : undefined
  if (fleet) {
    let before: Record<string, Weights> = o.routesAtStart
    for (const { change, routes } of routeStates(o).slice(1)) {
      const hadTraffic = Object.values(before).some((w) => (w[fleet] ?? 0) > 0)
      const none = Object.values(routes).every((w) => (w[fleet] ?? 0) === 0)
      if (change && hadTraffic && none) {
        // The new fleet's versions, less any the other fleet runs too (an instance that joined it
        // on the stable release): the stable release is not what was undone.
        const other = fleet === o.arns.blue ? o.arns.green : o.arns.blue
        const stable = versionsAt(o, other, change.at)
        for (const version of versionsAt(o, fleet, change.at).filter((v) => !stable.includes(v))) {
          undone.push({
            version,
            at: change.at,
            by: labelOf(o, change.caller),
            console: change.caller === o.consoleCaller
          })
        }
      }
      before = routes
    }
  }
  const out: Violation[] = []
  for (const u of undone) {
    // A person who takes a fleet to 0 with group stickiness left on keeps its pinned clients on it
    // (the ALB honours their cookie): those requests are the person's doing, until a run writes
    // the route again.
    const personsSticky = (r: ProxyRecord) =>
      u.console === true &&
      r.sticky === true &&
      !o.weightChanges.some(
        (c) => c.caller !== o.consoleCaller && c.at > u.at && c.at < r.at && c.routeArn === routeOf(o, r)
      )
    const served = o.proxy.filter((r) => r.version === u.version && r.at > u.at + GRACE_MS && !personsSticky(r))
    if (served.length > 0) {
      out.push({
        invariant: 'undone-served',
        detail: `${served.length} requests answered by ${u.version} after ${u.by} undid it at ${rel(o, u.at)} (first at ${rel(o, served[0].at)}, from ${served[0].targetGroupArn ? name(o, served[0].targetGroupArn) : 'no group'}${served[0].ruleArn ? ' by the rule' : ''})`
      })
    }
  }
  return dedupe(out)
}

/**
 * The weights decide where traffic goes: no request reaches a fleet at weight 0 on its route (on
 * an ALB a stickiness cookie would). Requests after a person's edit are the person's doing, until
 * the action writes that route again.
 */
export function hiddenTraffic(o: Observed): Violation[] {
  const states = routeStates(o)
  const byRoute = new Map<string, Array<{ at: number; weights: Weights; console: boolean }>>()
  for (const { change, routes } of states.slice(1)) {
    if (!change) continue
    const list = byRoute.get(change.routeArn) ?? []
    list.push({ at: change.at, weights: routes[change.routeArn], console: change.caller === o.consoleCaller })
    byRoute.set(change.routeArn, list)
  }
  const weightsAt = (route: string, at: number): { weights: Weights; console: boolean; since: number } => {
    let current = { weights: o.routesAtStart[route] ?? {}, console: false, since: o.startedAt }
    for (const c of byRoute.get(route) ?? []) {
      if (c.at > at) break
      current = { weights: c.weights, console: c.console, since: c.at }
    }
    return current
  }
  const hits = new Map<string, { count: number; first: number; route: string }>()
  for (const r of o.proxy) {
    if (!r.targetGroupArn || !pairOf(o).includes(r.targetGroupArn)) continue
    const route = routeOf(o, r)
    if (!(route in o.routesAtStart)) continue
    const now = weightsAt(route, r.at)
    if (now.console || r.at <= now.since + GRACE_MS) continue
    if ((now.weights[r.targetGroupArn] ?? 0) > 0) continue
    const key = `${r.targetGroupArn} ${route}`
    const hit = hits.get(key) ?? { count: 0, first: r.at, route }
    hit.count++
    hits.set(key, hit)
  }
  return [...hits].map(([key, hit]) => ({
    invariant: 'hidden-traffic',
    detail: `${hit.count} requests reached ${name(o, key.split(' ')[0])} at weight 0 on ${hit.route === o.arns.listener ? 'the listener' : 'the rule'} (first at ${rel(o, hit.first)}): sticky clients outrank the weights`
  }))
}

/**
 * Runs do not interleave their changes: once another run (or a person) changed AWS, a run that
 * had already been changing it changes nothing more (not in its post step either).
 */
export function exclusive(o: Observed): Violation[] {
  const byGroup = new Map<string, ApiCall[]>()
  for (const call of o.calls) {
    if (!isMutation(call)) continue
    const run = o.runs.find((r) => r.caller === call.caller)
    const group = call.caller === o.consoleCaller ? 'console' : run ? runOf(run.label) : `caller ${call.caller}`
    const list = byGroup.get(group) ?? []
    list.push(call)
    byGroup.set(group, list)
  }
  const out: Violation[] = []
  const seq = (c: ApiCall) => c.seq ?? 0
  for (const [a, callsA] of byGroup) {
    for (const [b, callsB] of byGroup) {
      if (a === b || a === 'console') continue
      const firstA = callsA[0]
      const other = callsB.find((c) => seq(c) > seq(firstA))
      // After a person's edit a run may still put the records right; it must not move traffic
      // or send commands again.
      const again = other && callsA.find((c) => seq(c) > seq(other) && (b !== 'console' || !isRecordWrite(c)))
      if (other && again) {
        out.push({
          invariant: 'exclusive',
          detail: `${who(o, a)} ${again.operation} at ${rel(o, again.answeredAt ?? again.at)} after ${who(o, b)} ${other.operation} at ${rel(o, other.answeredAt ?? other.at)}, while it had been changing AWS since ${rel(o, firstA.answeredAt ?? firstA.at)}`
        })
      }
    }
  }
  return out
}

function who(o: Observed, group: string): string {
  if (group === 'console') return 'a person in the console'
  const run = o.runs.find((r) => r.label === group)
  return run ? `${group} (${run.operation})` : group
}

/**
 * What a run reports is what AWS showed it last: its `weights` output equals the weights of its
 * first route when it last read the routes, unless it said loudly that traffic is not where it
 * should be.
 */
export function reportedWeights(o: Observed): Violation[] {
  const out: Violation[] = []
  for (const run of o.runs) {
    if (run.post || run.exitCode === null || isLoud(run)) continue
    // A run that changed nothing reports a read, which may be stale by the time it ends whatever
    // it does (a status during a rollback); what a run that acted reports must be what it saw last.
    if (!o.calls.some((c) => c.caller === run.caller && isMutation(c))) continue
    let reported: Weights
    try {
      reported = JSON.parse(run.outputs.weights ?? '{}') as Weights
    } catch {
      out.push({
        invariant: 'reported-weights',
        detail: `${run.label} output weights ${JSON.stringify(run.outputs.weights)} is not JSON`
      })
      continue
    }
    if (Object.keys(reported).length === 0) continue
    const reads = o.calls.filter((c) => c.caller === run.caller && ROUTE_READS.has(c.operation) && c.status === 200)
    const last = reads.at(-1)
    if (!last) continue
    const actual = routesAtSeq(o, last.seq ?? 0)[o.arns.listener]
    if (!actual) continue
    const wrong = pairOf(o).some((arn) => Math.abs((reported[arn] ?? 0) - percent(actual, arn)) > 1)
    if (wrong) {
      out.push({
        invariant: 'reported-weights',
        detail: `${run.label} (${run.operation}, result ${run.outputs.result || 'none'}) reported ${describe(o, reported)}, but the routes read ${describe(o, actual)} when it last looked (${rel(o, last.answeredAt ?? last.at)})`
      })
    }
  }
  return out
}

/** At the end every route to the pair (named in the inputs or not) splits traffic the same way. */
export function routesAgree(o: Observed): Violation[] {
  if (o.runs.some(isLoud)) return []
  const routes = Object.entries(o.final.routes)
  const [first] = routes
  const disagree = routes.filter(([, w]) => pairOf(o).some((arn) => percent(w, arn) !== percent(first[1], arn)))
  if (!first || disagree.length === 0) return []
  return [
    {
      invariant: 'routes-agree',
      detail: `routes disagree at the end and no run said so: ${routes.map(([arn, w]) => `${arn === o.arns.listener ? 'listener' : 'rule'} ${describe(o, w)}`).join(' vs ')}`
    }
  ]
}

/**
 * The records (role and version tags) say what the weights and the instances say: the fleet with
 * all traffic is recorded live and runs its recorded version on every instance; mid-canary one
 * fleet is the canary and the other live; a fleet recorded previous really runs its version.
 * Judged only when a run changed something.
 */
export function recordsMatch(o: Observed): Violation[] {
  const changed = o.calls.some((c) => isMutation(c) && c.caller !== o.consoleCaller)
  if (!changed || o.runs.some(isLoud)) return []
  const routes = Object.values(o.final.routes)
  const weights = o.final.routes[o.arns.listener] ?? routes[0]
  if (!weights || routes.some((w) => pairOf(o).some((arn) => percent(w, arn) !== percent(weights, arn)))) return []
  const out: Violation[] = []
  const role = (arn: string) => o.final.tags[arn]?.['bluegreen:role']
  const version = (arn: string) => o.final.tags[arn]?.['bluegreen:version']
  const runsRecorded = (arn: string) => {
    const running = o.final.instanceVersions[arn] ?? []
    const stray = running.filter((v) => v !== version(arn))
    if (stray.length > 0) {
      out.push({
        invariant: 'records-match',
        detail: `${name(o, arn)} is recorded ${role(arn)} with version ${version(arn)}, but its instances run ${running.join(', ')}`
      })
    }
  }
  const [a, b] = pairOf(o)
  const live = pairOf(o).find((arn) => percent(weights, arn) === 100)
  if (live) {
    const idle = live === a ? b : a
    if (role(live) !== 'live')
      out.push({
        invariant: 'records-match',
        detail: `${name(o, live)} takes all traffic but is recorded ${role(live) ?? 'nothing'}`
      })
    else runsRecorded(live)
    // A canary staged at 0% (canary-steps 0) is a canary taking no traffic: left as it started, it
    // is what the episode began with, not a record that lies.
    const staged =
      o.episode.start.kind === 'staged-canary' &&
      role(idle) === 'canary' &&
      version(idle) === o.episode.start.otherVersion
    if (['live', 'canary', 'deploying'].includes(role(idle) ?? '') && !staged) {
      out.push({
        invariant: 'records-match',
        detail: `${name(o, idle)} takes no traffic but is recorded ${role(idle)}`
      })
    }
    if (role(idle) === 'previous') runsRecorded(idle)
  } else {
    const canary = pairOf(o).find((arn) => role(arn) === 'canary')
    const stable = pairOf(o).find((arn) => arn !== canary)
    if (!canary || !stable || role(stable) !== 'live') {
      out.push({
        invariant: 'records-match',
        detail: `traffic is split (${describe(o, weights)}) but the records say ${name(o, a)} ${role(a) ?? 'nothing'}, ${name(o, b)} ${role(b) ?? 'nothing'}`
      })
    } else {
      runsRecorded(canary)
      runsRecorded(stable)
    }
  }
  return out
}

/** The lock is free once every run (main and post steps) has ended. */
export function lockFree(o: Observed): Violation[] {
  return o.final.locks.map((lock) => ({
    invariant: 'lock-free',
    detail: `the lock is still held after every run ended: ${lock}`
  }))
}

/** No request fails, except the 5xx of a version the episode made answer them. */
export function lossless(o: Observed): Violation[] {
  const erroring = new Set(erroringVersions(o.episode))
  const failed = o.proxy.filter(
    (r) => (r.status >= 500 || r.status === 0) && !(r.status === 500 && r.version && erroring.has(r.version))
  )
  const out: Violation[] = []
  if (failed.length > 0) {
    const kinds = new Map<string, number>()
    for (const r of failed) {
      const key = `${r.status}${r.error ? ` ${r.error}` : ''}${r.targetGroupArn ? ` from ${name(o, r.targetGroupArn)}` : ''}`
      kinds.set(key, (kinds.get(key) ?? 0) + 1)
    }
    out.push({
      invariant: 'lossless',
      detail: `${failed.length} requests failed (first at ${rel(o, failed[0].at)}): ${[...kinds].map(([k, n]) => `${n}× ${k}`).join(', ')}`
    })
  }
  // A client's own timeout is the soak's machine stalling, not the load balancer failing a request:
  // what the proxy answered is judged above. Connections it reset or refused are failures.
  const dropped = o.clientErrors.filter((e) => !/^(ETIMEDOUT|overloaded)$/.test(e.error))
  if (dropped.length > 0) {
    out.push({
      invariant: 'lossless',
      detail: `${dropped.length} requests got no answer (first at ${rel(o, dropped[0].at)}: ${dropped[0].error})`
    })
  }
  return out
}

/** An impossible setting is refused before the run changes anything on AWS, the lock included. */
export function refusedBeforeChange(o: Observed): Violation[] {
  const bad = o.episode.faults.find((f) => f.kind === 'bad-setting')
  if (!bad || bad.kind !== 'bad-setting') return []
  const primary = o.runs.find((r) => r.label === 'primary')
  if (!primary) return []
  const out: Violation[] = []
  if (primary.exitCode === 0) {
    out.push({
      invariant: 'refused-up-front',
      detail: `${bad.setting}: the run succeeded (result ${primary.outputs.result}) instead of refusing`
    })
  }
  const changes = o.calls.filter(
    (c) =>
      (c.caller === primary.caller || c.caller === o.runs.find((r) => r.label === 'post-primary')?.caller) &&
      changesAnything(c)
  )
  if (changes.length > 0) {
    out.push({
      invariant: 'refused-up-front',
      detail: `${bad.setting}: the run changed AWS before refusing (${[...new Set(changes.map((c) => c.operation))].join(', ')})`
    })
  }
  return out
}

function dedupe(list: Violation[]): Violation[] {
  const seen = new Set<string>()
  return list.filter((v) => (seen.has(v.detail) ? false : (seen.add(v.detail), true)))
}
