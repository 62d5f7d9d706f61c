// Where a run's time goes between its requests, from the sandbox's call log alone: requests that
// overlap in time form one wave (sent side by side), and the waves of a span follow each other,
// each waiting for the one before. A span's time is then its waves (round trips nobody can skip
// while they depend on each other) plus the gaps between them (the action's own work: loading
// code, computing, a deliberate sleep such as the lock's settle). Pure functions over plain data.

import type { ApiCall } from '../sandbox/world.js'

export interface Wave {
  /** First request's arrival and last answer, epoch ms. */
  from: number
  to: number
  operations: string[]
}

export interface Span {
  waves: number
  /** Time inside waves: waiting for answers. */
  roundTripMs: number
  /** Time between waves (and from the span's start to its first wave, and from its last to its end). */
  gapMs: number
  /** The longest gap and the operations on either side of it. */
  longestGap?: { ms: number; after: string; before: string }
}

/** Calls grouped into waves: a call that arrives before the current wave's last answer joins it. */
export function waves(calls: ApiCall[]): Wave[] {
  const sorted = [...calls].sort((a, b) => a.at - b.at)
  const out: Wave[] = []
  for (const c of sorted) {
    const end = c.answeredAt ?? c.at
    const last = out[out.length - 1]
    if (last && c.at < last.to) {
      last.to = Math.max(last.to, end)
      last.operations.push(c.operation)
    } else {
      out.push({ from: c.at, to: end, operations: [c.operation] })
    }
  }
  return out
}

/** The waves that start within [from, to) and the gaps between them, up to `to`. */
export function span(all: Wave[], from: number, to: number): Span {
  const inside = all.filter((w) => w.from >= from && w.from < to)
  let gapMs = 0
  let roundTripMs = 0
  let longestGap: Span['longestGap']
  let cursor = from
  let previous = 'start'
  for (const w of inside) {
    const gap = Math.max(0, w.from - cursor)
    gapMs += gap
    if (!longestGap || gap > longestGap.ms) longestGap = { ms: gap, after: previous, before: label(w) }
    roundTripMs += Math.max(0, Math.min(w.to, to) - Math.max(w.from, cursor))
    cursor = Math.max(cursor, w.to)
    previous = label(w)
  }
  const tail = Math.max(0, to - cursor)
  gapMs += tail
  if (!longestGap || tail > longestGap.ms) longestGap = { ms: tail, after: previous, before: 'end' }
  return { waves: inside.length, roundTripMs, gapMs, longestGap }
}

function label(w: Wave): string {
  const counts = new Map<string, number>()
  for (const op of w.operations) counts.set(op, (counts.get(op) ?? 0) + 1)
  return [...counts].map(([op, n]) => (n > 1 ? `${op}×${n}` : op)).join('+')
}

/** The median time the sandbox took to answer a request (its injected latency, mostly). */
export function medianAnswerMs(calls: ApiCall[]): number {
  const times = calls
    .filter((c) => c.answeredAt !== undefined)
    .map((c) => (c.answeredAt as number) - c.at)
    .sort((a, b) => a - b)
  return times.length === 0 ? 0 : times[Math.floor((times.length - 1) / 2)]
}

// The round trips a deploy cannot do without, one after the other: read the routes, take the
// lock, send the commands, learn they finished (one poll), shift the weights, read them back,
// record the result (issue 14's definition of the floor).
export const SEQUENTIAL_ROUND_TRIPS = 7

/** The least a deploy's overhead can be here: its process start plus the round trips above. */
export function floorMs(startMs: number, answerMs: number): number {
  return startMs + SEQUENTIAL_ROUND_TRIPS * answerMs
}

export function describeSpan(name: string, s: Span): string {
  const gap =
    s.longestGap && s.longestGap.ms >= 1
      ? `, longest ${Math.round(s.longestGap.ms)} ms between ${s.longestGap.after} and ${s.longestGap.before}`
      : ''
  return `${name}: ${s.waves} round trip${s.waves === 1 ? '' : 's'} (${Math.round(s.roundTripMs)} ms) + ${Math.round(s.gapMs)} ms between them${gap}`
}
