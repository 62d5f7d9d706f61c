// What a lane sends back about one episode: small, plain data (it crosses a process boundary),
// with the timeline a reader needs to understand a violation.

import { describeEpisode, type FaultKind, type Operation, type StartState } from './episode.js'
import type { Violation } from './invariants.js'
import type { EpisodeOutcome } from './run-episode.js'

export interface EpisodeReport {
  seed: number
  description: string
  operation: Operation
  start: StartState['kind']
  drawn: FaultKind[]
  fired: FaultKind[]
  results: string[]
  violations: Violation[]
  durationMs: number
  /** The longest the lane's event loop stalled during the episode (an overloaded machine shows here). */
  stallMs: number
  timeline: string[]
  logs: Array<{ label: string; text: string }>
}

export function episodeReport(outcome: EpisodeOutcome, stallMs: number, withLogs: boolean): EpisodeReport {
  const { episode } = outcome
  const detailed = withLogs || outcome.violations.length > 0
  return {
    seed: episode.seed,
    description: describeEpisode(episode),
    operation: episode.primary.operation,
    start: episode.start.kind,
    drawn: episode.faults.map((f) => f.kind),
    fired: outcome.fired,
    results: outcome.results,
    violations: outcome.violations,
    durationMs: outcome.durationMs,
    stallMs,
    timeline: detailed ? timeline(outcome) : [],
    logs: detailed ? outcome.logs : []
  }
}

/** What happened when, for reading a violation: weight changes with who made them, and the runs. */
export function timeline(outcome: EpisodeOutcome): string[] {
  const o = outcome.observed
  const rel = (at: number) => `+${((at - o.startedAt) / 1000).toFixed(2)}s`
  const who = (caller?: string) =>
    caller === o.consoleCaller ? 'console' : (o.runs.find((r) => r.caller === caller)?.label ?? caller ?? '?')
  const name = (arn: string) => (arn === o.arns.blue ? 'blue' : 'green')
  const events: Array<[number, string]> = []
  for (const r of o.runs) {
    events.push([r.startedAt, `${r.label} (${r.operation}) starts`])
    events.push([r.endedAt, `${r.label} ends: ${r.outputs.result || '-'} exit ${r.exitCode ?? r.signal}`])
  }
  for (const c of o.weightChanges) {
    const route = c.routeArn === o.arns.listener ? 'listener' : 'rule'
    events.push([
      c.at,
      `${who(c.caller)} sets ${route} ${Object.entries(c.weights)
        .map(([arn, w]) => `${name(arn)} ${w}`)
        .join('/')}`
    ])
  }
  for (const c of o.calls) {
    if (c.status === 200 && /^(SendCommand|AddTags|RemoveTags|PutParameter|DeleteParameter)$/.test(c.operation)) {
      events.push([c.answeredAt ?? c.at, `${who(c.caller)} ${c.operation} ${summarizeParams(c.params)}`])
    }
  }
  return events.sort((a, b) => a[0] - b[0]).map(([at, text]) => `${rel(at)} ${text}`)
}

function summarizeParams(params: unknown): string {
  const p = (params ?? {}) as Record<string, unknown>
  if (p.Tags) return JSON.stringify(p.Tags).slice(0, 160)
  if (p.TagKeys) return JSON.stringify(p.TagKeys)
  if (p.Name) return String(p.Name)
  if (p.InstanceIds) return JSON.stringify(p.InstanceIds)
  return ''
}
