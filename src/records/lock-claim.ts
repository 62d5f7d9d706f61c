// The pair's lock as data: where it lives in Parameter Store, what a claim says, and how a run
// judges the claim it finds. Pure; the reads and writes are in parameter-lock.ts.

import { targetGroupName } from '../config/arn.js'

/** Who holds the pair, for what, until when. */
export interface LockClaim {
  /** The holding run's identity: unique per job of a workflow run. */
  runId: string
  runUrl: string
  operation: string
  /** End of the lease (epoch ms); the holder renews it while it works. */
  expiresAt: number
}

/**
 * The lease: short, so that a run killed together with its post step blocks the pair for minutes,
 * not for its whole timeout; renewed well before it ends while the run works.
 */
export const LEASE_MS = 2 * 60_000
export const RENEW_AFTER_MS = 30_000
/** A lease is judged expired only this long after its end, so that runner clocks may disagree a little. */
export const CLOCK_SKEW_MS = 5_000
/**
 * A run that took the lock over from another (expired, or forced by a rollback) reads it again
 * after this long before it changes anything; see the race analysis in parameter-lock.ts.
 */
export const TAKEOVER_SETTLE_MS = 4_000
/** The longest from sending the lock read that justified a write to that write's answer. */
export const WRITE_WITHIN_MS = TAKEOVER_SETTLE_MS / 2

export const DEFAULT_PARAMETER_PREFIX = '/bluegreen'

/**
 * `<prefix>/pair/<name of the alphabetically first target group of the pair>/lock`: the same name
 * whichever way round the pair was found. Parameter names allow no colon, so the group's name
 * (unique in its account and region, like the parameter) stands for its ARN.
 */
export function lockParameterName(prefix: string, pair: readonly string[]): string {
  const first = [...pair].sort()[0]
  return `${prefix.replace(/\/+$/, '')}/pair/${targetGroupName(first)}/lock`
}

export function encodeClaim(claim: LockClaim): string {
  return JSON.stringify({
    runId: claim.runId,
    runUrl: claim.runUrl,
    operation: claim.operation,
    expiresAt: new Date(claim.expiresAt).toISOString()
  })
}

/** The claim in a lock parameter's value; undefined when the value is not one. */
export function decodeClaim(value: string | undefined): LockClaim | undefined {
  if (!value) return undefined
  try {
    const parsed = JSON.parse(value) as Record<string, unknown>
    const expiresAt = typeof parsed.expiresAt === 'string' ? Date.parse(parsed.expiresAt) : NaN
    if (typeof parsed.runId !== 'string' || !parsed.runId || Number.isNaN(expiresAt)) return undefined
    return {
      runId: parsed.runId,
      runUrl: typeof parsed.runUrl === 'string' ? parsed.runUrl : '',
      operation: typeof parsed.operation === 'string' ? parsed.operation : '',
      expiresAt
    }
  } catch {
    return undefined
  }
}

export type LockState =
  /** No lock parameter: anyone may create it. */
  | { kind: 'free' }
  | { kind: 'mine'; claim: LockClaim }
  /** Another run holds it and its lease runs. */
  | { kind: 'held'; claim: LockClaim }
  /** Another run held it; its lease ended (it died, and its post step too). */
  | { kind: 'expired'; claim: LockClaim }
  /** Something that is not a claim sits at the lock's name. */
  | { kind: 'unreadable'; value: string }

/** How a run sees the lock parameter's current value (undefined: the parameter does not exist). */
export function judgeLock(value: string | undefined, runId: string, now: number): LockState {
  if (value === undefined) return { kind: 'free' }
  const claim = decodeClaim(value)
  if (!claim) return { kind: 'unreadable', value }
  if (claim.runId === runId) return { kind: 'mine', claim }
  return now > claim.expiresAt + CLOCK_SKEW_MS ? { kind: 'expired', claim } : { kind: 'held', claim }
}

/** A run holding the lock renews its lease once this much of it has passed. */
export function renewalDue(claim: LockClaim, now: number): boolean {
  return claim.expiresAt - now <= LEASE_MS - RENEW_AFTER_MS
}

/** How long to wait before looking at a held lock again, within what is left of lock-wait. */
export function lockPollMs(waitedMs: number, lockWaitMs: number): number {
  return Math.max(0, Math.min(5_000, lockWaitMs - waitedMs))
}

/** "run https://…/runs/1/attempts/1 (deploy, until 12:03:00Z)" for errors and warnings. */
export function describeHolder(claim: LockClaim): string {
  return `${claim.runUrl || claim.runId} (${claim.operation || 'an operation'}, lease until ${new Date(claim.expiresAt).toISOString()})`
}
