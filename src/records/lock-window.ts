// The window in which a write made under the lock may be sent (rule 3 of parameter-lock.ts): each
// attempt goes out within WRITE_WITHIN_MS of sending a read that showed the claim as this run's,
// through the clients' send gate (aws/send-gate.ts), however long the SDK's retries run.

import { outsideSendGate, type SendGate, withSendGate } from '../aws/send-gate.js'
import { DeployError } from '../config/errors.js'
import type { Clock } from '../runtime/clock.js'
import { WRITE_WITHIN_MS } from './lock-claim.js'

/** Reads the lock again quickly enough this many times at most before a change is given up. */
const RECONFIRM_ATTEMPTS = 5

class SendWindowClosed extends Error {
  constructor() {
    super('The deploy lock was read too long ago to send this change')
    this.name = 'SendWindowClosed'
  }
}

/**
 * Sends a write of the lock itself only within WRITE_WITHIN_MS of the read it rests on: undefined
 * when the SDK could only have sent it (or retried it) later. There is nothing to read again for:
 * the read was the judgement.
 */
export async function sendWithin<T>(
  clock: Clock,
  readSent: number,
  what: string,
  write: () => Promise<T>
): Promise<T | undefined> {
  const window = new SendWindow(clock, readSent, what, () => {
    throw new SendWindowClosed()
  })
  try {
    return await withSendGate(window, write)
  } catch (error) {
    if (error instanceof SendWindowClosed) return undefined
    throw error
  }
}

/**
 * The gate of one change made under the lock (send-gate.ts): an attempt goes out only within
 * WRITE_WITHIN_MS of sending a read that showed the claim as this run's, the rule the race
 * analysis in parameter-lock.ts rests on. A later attempt (the SDK retrying a throttled one, or
 * one after a slow first read) waits for `reconfirm` to read the lock again, which throws when the
 * lock is no longer this run's; the retries throttling needs go on, each within its own window.
 */
export class SendWindow implements SendGate {
  private pending?: Promise<number>

  constructor(
    private readonly clock: Clock,
    /** When the read that lets attempts go now was sent. */
    public readAt: number,
    private readonly what: string,
    private readonly reconfirm: () => Promise<number>
  ) {}

  async beforeSend(): Promise<void> {
    for (let attempt = 1; this.clock.now() - this.readAt > WRITE_WITHIN_MS; attempt++) {
      if (attempt > RECONFIRM_ATTEMPTS) {
        throw new DeployError(
          `${this.what} was not sent: AWS answered ${RECONFIRM_ATTEMPTS} reads of the deploy lock too slowly to be sure this run still holds it (each must take under ${WRITE_WITHIN_MS / 1000}s)`
        )
      }
      // Attempts sent side by side share one read; the read itself passes no gate.
      this.pending ??= outsideSendGate(this.reconfirm).finally(() => (this.pending = undefined))
      this.readAt = await this.pending
    }
  }
}
