// The pair's lock, held in one SSM Parameter Store parameter (lock-claim.ts says where and what).
//
// Why it is safe, and where AWS leaves a gap (the race analysis):
//
// 1. Taking a free lock is PutParameter with Overwrite false. Parameter Store creates a name once:
//    of any number of runs creating it at the same moment exactly one succeeds, the others get
//    ParameterAlreadyExists. No settle time, no read-back: this is the common case.
//
// 2. Taking a lock over (its lease ended, or a rollback forces it) cannot be a compare-and-set:
//    Parameter Store has no conditional overwrite or delete, and a version returned by PutParameter
//    only tells afterwards that someone else wrote in between, when the other write is already
//    clobbered. So a take-over overwrites the claim it judged, and two rules make it safe:
//    - the overwrite must be answered within WRITE_WITHIN_MS of sending the read that judged the
//      claim (no attempt of it is sent later); a slower one may have replaced a newer claim, so
//      the run gives its claim back (deletes it, if it still reads as its own) and looks again;
//    - the run then waits TAKEOVER_SETTLE_MS (twice WRITE_WITHIN_MS) and reads the lock again; it
//      holds the lock only if the claim is still its own, and changes nothing before that.
//    Runs A and B judging the same expired claim: B's read was answered before A's overwrite
//    (otherwise B would have seen A's fresh claim), so B's overwrite landed within WRITE_WITHIN_MS
//    of A's; A reads again TAKEOVER_SETTLE_MS after its own and sees B's claim: A gives way, B
//    holds. A stale overwrite that replaces a run's fresh claim (taken by rule 1) makes that run
//    lose the lock at its next change (rule 3). Only local durations are compared: no two runners'
//    clocks need to agree.
//
// 3. A holder learns that it lost the lock (to a forced rollback, or after its lease ran out)
//    because every change it makes to AWS goes through guard(): the lock is read immediately
//    before, and no attempt of the change is sent later than WRITE_WITHIN_MS after that read. An
//    attempt the SDK would send later (it retries a throttled call for up to a minute) first reads
//    the lock again and goes only if the claim is still this run's, within WRITE_WITHIN_MS of that
//    read (lock-window.ts, through the clients' send gate). A take-over changes nothing until
//    TAKEOVER_SETTLE_MS after its overwrite, so every attempt of the holder sent before the
//    take-over was seen has landed before the new holder's first change, unless it spent more than
//    TAKEOVER_SETTLE_MS - WRITE_WITHIN_MS in flight; every later attempt finds the claim gone and
//    is not sent. A change answered later than WRITE_WITHIN_MS after its last read (a slow network)
//    is followed by another read; if the claim is gone by then, the run says loudly that its last
//    change may have landed after the other run's.
//
// 4. Renewing the lease overwrites the claim, right after a read that shows it is still this run's
//    (never later than WRITE_WITHIN_MS after it: a renewal only the SDK's retries could send later
//    is skipped, and the next read renews). Parameter Store numbers every write of a parameter: the
//    renewal's version must follow the read's directly, or another run (a take-over) wrote in
//    between and the renewal replaced its claim. That run may already have had its second look, so
//    neither can tell which one the other believes holds the pair: this run stops and gives the
//    claim back (the other run finds it gone at its next change and stops too: safe, and a forced
//    rollback simply tries again). Releasing deletes the claim right after a read that shows it is
//    still this run's: a new one, or the read before the run's last change when that was sent less
//    than WRITE_WITHIN_MS ago (the run's records are written just before it lets go, and the
//    argument below measures from the read either way); like a change, the delete is sent within
//    WRITE_WITHIN_MS of a read that showed the claim. A delete answered within TAKEOVER_SETTLE_MS
//    of that read lands before the second look of any take-over made after the read, which then
//    finds the lock free and creates it again. A slower one could remove a take-over's claim after
//    its second look: that run stops at its next change, which is safe; the run says so. Leaving
//    the lock to its lease instead would block every run for up to LEASE_MS.
//
// The gap that remains: a request is applied somewhere between being sent and being answered. The
// rules bound when an attempt is sent, and a slow answer is treated as suspect where it matters,
// but an attempt that spends seconds in flight (a stalled connection) can still land after another
// run's first change; a release's delete that lands that late removes that run's claim (it then
// finds the lock gone at its next change and stops: safe, not live). Closing this would need a
// conditional write on the listener itself, which ELBv2 does not offer.

import type { SSMClient } from '@aws-sdk/client-ssm'
import { createParameter, deleteParameter, overwriteParameter, readParameter } from '../aws/parameter-store.js'
import { withSendGate } from '../aws/send-gate.js'
import type { Clock } from '../runtime/clock.js'
import { DeployError, LockLostError } from '../config/errors.js'
import type { Log } from '../runtime/log.js'
import {
  describeHolder,
  encodeClaim,
  judgeLock,
  LEASE_MS,
  type LockClaim,
  type LockState,
  lockPollMs,
  renewalDue,
  TAKEOVER_SETTLE_MS,
  WRITE_WITHIN_MS
} from './lock-claim.js'
import { sendWithin, SendWindow } from './lock-window.js'

export { LockLostError }

/** Reads a release makes before it leaves the lock to its lease. */
const RELEASE_ATTEMPTS = 4

/**
 * Runs one change to AWS while this run holds the pair (rule 3 above). A change must not wait
 * inside: a wait renews the lease, which takes the same turn as the guard.
 */
export type Guard = <T>(what: string, change: () => Promise<T>) => Promise<T>

/** For changes made where no lock applies (tests, tools): runs them as they are. */
export const unguarded: Guard = (_what, change) => change()

export interface PairLock {
  readonly name: string
  /** Set once this run knows it no longer holds the lock. */
  readonly lost: boolean
  /** Why, once lost: the error every later change of this run meets. */
  readonly lostError: LockLostError | undefined
  /** Reads the lock and renews the lease when due; throws LockLostError when it is not this run's. */
  confirm(): Promise<void>
  /** Makes one change to AWS while holding the lock (see rule 3 above). */
  guard<T>(what: string, change: () => Promise<T>): Promise<T>
  /** Renews the lease when due; never throws (a loss shows at the next confirm or guard). */
  keepAlive(): Promise<void>
  /** Deletes the lock if this run still holds it; true when it did. */
  release(): Promise<boolean>
}

export interface LockOptions {
  ssm: SSMClient
  name: string
  run: { id: string; url: string }
  operation: string
  clock: Clock
  log: Log
  signal?: AbortSignal
}

export interface TakeLockOptions extends LockOptions {
  /** How long to wait for another run's live lock before giving up (lock-wait). */
  waitMs: number
  /** Take the lock even from a live holder: a rollback must be able to stop the bleeding. */
  force: boolean
}

const MAX_ATTEMPTS = 20

/** Takes the pair's lock, waiting up to `waitMs` for a live holder (unless forced). */
export async function takeLock(options: TakeLockOptions): Promise<PairLock> {
  const { ssm, name, clock, log } = options
  const started = clock.now()
  let announcedWait = false
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    options.signal?.throwIfAborted()
    const claim = newClaim(options)
    if (await createParameter(ssm, name, encodeClaim(claim))) {
      log.info(`Took the deploy lock ${name}`)
      return new HeldLock(options, claim)
    }
    const readSent = clock.now()
    const state = judgeLock((await readParameter(ssm, name))?.value, options.run.id, clock.now())
    switch (state.kind) {
      case 'free':
        continue // released meanwhile: create it again
      case 'mine':
        // An earlier attempt of the same create succeeded and its answer was lost (SDK retry).
        return new HeldLock(options, state.claim)
      case 'unreadable':
        if (!options.force) {
          throw new DeployError(
            `Parameter ${name} is where this action keeps the deploy lock, but it holds something else (${JSON.stringify(state.value.slice(0, 80))}); delete it or choose another parameter-prefix`
          )
        }
        break
      case 'held':
        if (!options.force) {
          const waited = clock.now() - started
          if (waited >= options.waitMs) {
            throw new DeployError(
              `Another run holds the deploy lock ${name}: ${describeHolder(state.claim)}; wait for it to finish, or cancel it (its post step releases the lock)${options.waitMs > 0 ? ` (waited ${Math.round(waited / 1000)}s, lock-wait)` : ', or set lock-wait to wait for it'}`
            )
          }
          if (!announcedWait)
            log.info(
              `Waiting up to ${Math.round(options.waitMs / 1000)}s (lock-wait) for the deploy lock held by ${describeHolder(state.claim)}`
            )
          announcedWait = true
          await clock.sleep(lockPollMs(waited, options.waitMs), options.signal)
          continue
        }
        log.warning(
          `Taking the deploy lock from ${describeHolder(state.claim)}: a rollback goes first; that run stops changing traffic at its next change`
        )
        break
      case 'expired':
        log.warning(
          `Taking over the deploy lock from ${describeHolder(state.claim)}: its lease ended, so that run died without releasing it`
        )
        break
    }
    const taken = await takeOver(options, readSent, state)
    if (taken) return taken
  }
  throw new DeployError(
    `Could not take the deploy lock ${name} after ${MAX_ATTEMPTS} attempts: other runs keep taking it; run this one again once they have finished`
  )
}

/**
 * Overwrites the claim that was judged, then looks again after TAKEOVER_SETTLE_MS (rule 2);
 * undefined when another run got in first, so the caller looks again.
 */
async function takeOver(options: TakeLockOptions, readSent: number, seen: LockState): Promise<PairLock | undefined> {
  const { ssm, name, clock } = options
  const lock = new HeldLock(options, newClaim(options))
  // An attempt the SDK would retry after WRITE_WITHIN_MS is not sent: the claim judged may have
  // been replaced by then. Looking again is what is left.
  const written = await sendWithin(clock, readSent, 'Taking the deploy lock over', () =>
    overwriteParameter(ssm, name, encodeClaim(newClaim(options)))
  )
  if (written === undefined || clock.now() - readSent > WRITE_WITHIN_MS) {
    await lock.release().catch(() => undefined)
    return undefined
  }
  try {
    await clock.sleep(TAKEOVER_SETTLE_MS, options.signal)
  } catch (error) {
    await lock.release().catch(() => undefined)
    throw error
  }
  const after = judgeLock((await readParameter(ssm, name))?.value, options.run.id, clock.now())
  if (after.kind !== 'mine') return undefined
  lock.adopt(after.claim)
  options.log.info(
    `Took the deploy lock ${name}${seen.kind === 'held' || seen.kind === 'expired' ? ` over from ${seen.claim.runUrl || seen.claim.runId}` : ''}`
  )
  return lock
}

/**
 * The lock as a run that may hold it sees it, without taking it: the post step, which must change
 * nothing unless its main step's claim is still the lock.
 */
export function resumeLock(options: LockOptions): PairLock {
  return new HeldLock(options, undefined)
}

function newClaim(options: Pick<LockOptions, 'run' | 'operation' | 'clock'>): LockClaim {
  return {
    runId: options.run.id,
    runUrl: options.run.url,
    operation: options.operation,
    expiresAt: options.clock.now() + LEASE_MS
  }
}

class HeldLock implements PairLock {
  lost = false
  lostError: LockLostError | undefined
  private holder?: LockClaim
  // When the last read that showed this run's claim was sent: a release right after a guarded
  // change (the records) deletes on that read instead of reading again (rule 4 measures from it).
  private confirmedAt?: number
  // One lock operation at a time: a renewal from a wait must not interleave with a guarded change.
  private queue: Promise<unknown> = Promise.resolve()

  constructor(
    private readonly options: LockOptions,
    private claim: LockClaim | undefined
  ) {}

  get name(): string {
    return this.options.name
  }

  adopt(claim: LockClaim): void {
    this.claim = claim
  }

  confirm(): Promise<void> {
    return this.serial(async () => {
      await this.check()
    })
  }

  guard<T>(what: string, change: () => Promise<T>): Promise<T> {
    return this.serial(async () => {
      const window = new SendWindow(this.options.clock, await this.check(), what, () => this.check())
      const result = await withSendGate(window, change)
      const took = this.options.clock.now() - window.readAt
      if (took > WRITE_WITHIN_MS) {
        const state = await this.read()
        if (state.kind !== 'mine') {
          throw this.markLost(
            state,
            `${what} took ${(took / 1000).toFixed(1)}s to be answered, and meanwhile another run took the deploy lock: this change may have landed after that run's first one; run status to see where traffic is`,
            true
          )
        }
      }
      return result
    })
  }

  keepAlive(): Promise<void> {
    if (this.lost || !this.claim || !renewalDue(this.claim, this.options.clock.now())) return Promise.resolve()
    return this.confirm().catch((error) => {
      if (!(error instanceof LockLostError))
        this.options.log.warning(`Could not renew the deploy lock's lease: ${(error as Error).message}`)
    })
  }

  release(): Promise<boolean> {
    return this.serial(async () => {
      const { clock } = this.options
      if (this.lost) return false
      // The read before the last change is as good as a new one while it is this recent.
      if (this.confirmedAt !== undefined && clock.now() - this.confirmedAt <= WRITE_WITHIN_MS) {
        return this.deleteClaim(this.confirmedAt)
      }
      for (let attempt = 1; attempt <= RELEASE_ATTEMPTS; attempt++) {
        if (this.lost) return false
        const sent = clock.now()
        let state: LockState
        try {
          state = await this.read()
        } catch (error) {
          // Throttled beyond the SDK's retries, say: the next attempt may get through.
          if (attempt === RELEASE_ATTEMPTS) throw error
          continue
        }
        if (state.kind !== 'mine') {
          this.markLost(state, '')
          return false
        }
        // A read answered slowly (throttling, a slow network) says little about now: read again,
        // a few times; then release anyway (rule 4: a lock left to its lease blocks every run).
        if (clock.now() - sent > WRITE_WITHIN_MS && attempt < RELEASE_ATTEMPTS) continue
        return this.deleteClaim(sent)
      }
      return false
    })
  }

  /** Deletes the claim that a read sent at `readSent` showed as this run's (rule 4). */
  private async deleteClaim(readSent: number): Promise<boolean> {
    const { clock, log } = this.options
    const window = new SendWindow(clock, readSent, 'Releasing the deploy lock', () => this.check())
    try {
      await withSendGate(window, () => deleteParameter(this.options.ssm, this.options.name))
    } catch (error) {
      if (error instanceof LockLostError) return false
      throw error
    }
    this.lost = true
    const took = clock.now() - window.readAt
    if (took > TAKEOVER_SETTLE_MS) {
      log.warning(
        `Releasing the deploy lock took ${Math.round(took / 1000)}s (AWS answered slowly): a rollback that took it over in that time would find it gone and stop; run such a rollback again`
      )
    }
    return true
  }

  /** Reads the lock; returns when that read was sent, or throws LockLostError. Renews when due. */
  private async check(): Promise<number> {
    if (this.lost) throw this.lostError ?? this.newLostError('')
    const { clock } = this.options
    const sent = clock.now()
    const { state, version } = await this.readVersioned()
    if (state.kind !== 'mine') throw this.markLost(state, '')
    this.claim = state.claim
    this.confirmedAt = sent
    if (renewalDue(state.claim, clock.now())) {
      const renewed = { ...state.claim, expiresAt: clock.now() + LEASE_MS }
      // A renewal the SDK could only send late is skipped (the next check renews): sent late, it
      // could replace a take-over's claim after that run's second look.
      const written = await sendWithin(clock, sent, 'Renewing the deploy lock', () =>
        overwriteParameter(this.options.ssm, this.options.name, encodeClaim(renewed))
      )
      if (written === undefined) return sent
      if (written !== version + 1) {
        // Someone wrote between the read and the renewal (rule 4): a take-over, whose claim the
        // renewal just replaced. Neither run can tell which one the other believes holds the pair,
        // so this one stops, and gives the claim back for the other run's second look.
        await this.giveBack()
        throw this.markLost(
          { kind: 'free' },
          'Another run wrote the deploy lock while this run renewed it (a take-over); this run stops changing traffic',
          true
        )
      }
      this.claim = renewed
    }
    return sent
  }

  private async read(): Promise<LockState> {
    return (await this.readVersioned()).state
  }

  private async readVersioned(): Promise<{ state: LockState; version: number }> {
    const stored = await readParameter(this.options.ssm, this.options.name)
    return {
      state: judgeLock(stored?.value, this.options.run.id, this.options.clock.now()),
      version: stored?.version ?? 0
    }
  }

  /** Deletes the lock if it still shows this run's claim (best effort: the lease ends anyway). */
  private async giveBack(): Promise<void> {
    const { clock } = this.options
    const sent = clock.now()
    const state = await this.read().catch(() => undefined)
    if (state?.kind !== 'mine' || clock.now() - sent > WRITE_WITHIN_MS) return
    await sendWithin(clock, sent, 'Giving the deploy lock back', () =>
      deleteParameter(this.options.ssm, this.options.name)
    ).catch(() => undefined)
  }

  private markLost(state: LockState, message: string, raced = false): LockLostError {
    this.lost = true
    if (state.kind === 'held' || state.kind === 'expired') this.holder = state.claim
    this.lostError = this.newLostError(message, raced)
    return this.lostError
  }

  private newLostError(message: string, raced = false): LockLostError {
    const who = this.holder ? `${describeHolder(this.holder)} holds it now` : 'it was released or taken by another run'
    return new LockLostError(
      message ||
        `This run no longer holds the deploy lock ${this.options.name} (${who}); it leaves traffic and records to that run`,
      this.holder ? describeHolder(this.holder) : undefined,
      raced
    )
  }

  private serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.queue.then(work, work)
    this.queue = next.catch(() => undefined)
    return next
  }
}
