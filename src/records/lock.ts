import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import { targetGroupName } from '../config/arn.js'
import type { Clock } from '../runtime/clock.js'
import { DeployError } from '../config/errors.js'
import { readTags, removeTags, writeTags } from '../aws/elbv2.js'
import type { Log } from '../runtime/log.js'
import type { RunIdentity } from '../runtime/run-identity.js'
import { decodeLock, encodeLock, type Lock, TAG } from './fleet-records.js'

/** Who holds a lock: the run's id, and the link other runs are shown. */
export type LockHolder = Pick<RunIdentity, 'id' | 'url'>

// Longer than a competing run needs between reading the lock and writing its own (one round trip).
const SETTLE_MS = 100

/**
 * Takes the pair's lock, so that two workflows (or a workflow and a person) cannot interleave
 * weight changes. `force` takes it even while held: a rollback must be able to stop the bleeding
 * when the holder died (its lock would block everyone until it expires); a live holder notices
 * at its next step (`holdsLock`) and stops touching traffic.
 */
export async function acquireLock(
  elb: ElasticLoadBalancingV2Client,
  lockArn: string,
  run: LockHolder,
  ttlMs: number,
  clock: Clock,
  log: Log,
  options: { force?: boolean; known?: Lock | null; whileSettling?: () => Promise<unknown> } = {}
): Promise<void> {
  const { force = false } = options
  // The holder as the caller just read it (discovery reads the same tags), or read now.
  const held =
    options.known !== undefined
      ? (options.known ?? undefined)
      : decodeLock((await readTags(elb, [lockArn]))[lockArn][TAG.lock])
  if (held && held.id !== run.id) {
    if (force && held.expiresAt > clock.now()) {
      log.warning(
        `Taking the deploy lock from ${held.holder} (held until ${new Date(held.expiresAt).toISOString()}): a rollback goes first; that run stops changing traffic at its next step`
      )
    } else if (held.expiresAt > clock.now()) {
      throw new DeployError(
        `Another run holds the deploy lock on ${targetGroupName(lockArn)} until ${new Date(held.expiresAt).toISOString()}: ${held.holder}; wait for it to finish, or cancel it (its post step releases the lock)`
      )
    }
    log.warning(
      `Taking over an expired deploy lock (expired ${new Date(held.expiresAt).toISOString()}) from ${held.holder}`
    )
  }
  await writeTags(elb, lockArn, {
    [TAG.lock]: encodeLock({ id: run.id, holder: run.url, expiresAt: clock.now() + ttlMs })
  })
  // Tags have no compare-and-set. Waiting a moment before reading back means that of two runs
  // writing at nearly the same time, the first reads the second's lock and gives way.
  try {
    await Promise.all([clock.sleep(SETTLE_MS), options.whileSettling?.()])
  } catch (error) {
    await releaseLock(elb, lockArn, run).catch(() => undefined)
    throw error
  }
  const after = decodeLock((await readTags(elb, [lockArn]))[lockArn][TAG.lock])
  if (after?.id !== run.id) {
    throw new DeployError(
      `Another run took the deploy lock at the same moment: ${after?.holder ?? 'unknown'}; run this one again once it has finished`
    )
  }
}

/** Whether this run still holds the lock (another run may have forced it away). */
export async function holdsLock(elb: ElasticLoadBalancingV2Client, lockArn: string, run: LockHolder): Promise<boolean> {
  return decodeLock((await readTags(elb, [lockArn]))[lockArn][TAG.lock])?.id === run.id
}

/** Releases the lock if this run still holds it; never removes another run's lock. */
export async function releaseLock(
  elb: ElasticLoadBalancingV2Client,
  lockArn: string,
  run: LockHolder
): Promise<boolean> {
  const held = decodeLock((await readTags(elb, [lockArn]))[lockArn][TAG.lock])
  if (held?.id !== run.id) return false
  await removeTags(elb, lockArn, [TAG.lock])
  return true
}

/** The pair member that carries the lock: the same one whichever way round the pair was found. */
export function lockHolderArn(pair: readonly string[]): string {
  return [...pair].sort()[0]
}
