import { removeTags, writeTags } from '../aws/elbv2.js'
import { targetGroupName } from '../config/arn.js'
import { LockLostError } from '../config/errors.js'
import type { RunContext } from '../runtime/context.js'
import { type FleetRecord, TAG, tagsFromRecord } from './fleet-records.js'

/** Runs one change to AWS while this run holds the pair (parameter-lock.ts): records included. */
export type RecordGuard = <T>(what: string, change: () => Promise<T>) => Promise<T>

/** Writes a fleet's record on AWS, where a later job (a promote, a status) reads it. */
export async function writeRecord(
  ctx: Pick<RunContext, 'clients'>,
  guard: RecordGuard,
  arn: string,
  fleetRecord: FleetRecord
): Promise<void> {
  await guard(`Recording ${targetGroupName(arn)} as ${fleetRecord.role}`, () =>
    writeTags(ctx.clients.elb, arn, tagsFromRecord(fleetRecord))
  )
}

/**
 * Records a fleet once traffic has settled: a failed tag write then must not turn the run's result
 * around (the weights are what they are), so it becomes a warning in the log and the summary. A run
 * that lost the lock writes nothing: the records are the new holder's to write.
 */
export async function recordAfterTraffic(
  ctx: Pick<RunContext, 'clients' | 'log'>,
  guard: RecordGuard,
  warnings: string[],
  arn: string,
  fleetRecord: FleetRecord
): Promise<void> {
  await recordFleetsAfterTraffic(ctx, guard, warnings, [[arn, fleetRecord]])
}

/**
 * Several fleets' records, as recordAfterTraffic, written side by side under one look at the lock:
 * the end of a run writes both, and a look per record would cost a round trip each.
 */
export async function recordFleetsAfterTraffic(
  ctx: Pick<RunContext, 'clients' | 'log'>,
  guard: RecordGuard,
  warnings: string[],
  records: [arn: string, fleetRecord: FleetRecord][]
): Promise<void> {
  const what = records.map(([arn, r]) => `${targetGroupName(arn)} as ${r.role}`).join(' and ')
  await guard(`Recording ${what}`, () =>
    Promise.all(
      records.map(([arn, fleetRecord]) =>
        writeTags(ctx.clients.elb, arn, tagsFromRecord(fleetRecord)).catch((e: unknown) => {
          const message = `Could not record ${targetGroupName(arn)} as ${fleetRecord.role} (${(e as Error).message}); status will show stale records until the next run`
          ctx.log.warning(message)
          warnings.push(message)
        })
      )
    )
  ).catch((e: unknown) => {
    if (e instanceof LockLostError) throw e
    const message = `Could not record ${what} (${(e as Error).message}); status will show stale records until the next run`
    ctx.log.warning(message)
    warnings.push(message)
  })
}

/**
 * The new fleet's record through a deploy: `deploying` before the commands go out, `canary` once
 * it may take traffic, `failed` when they went out and the deploy failed. A deploy that stops
 * before sending anything puts the record back as it was, so the fleet stays a valid rollback
 * target. `deploying` is on AWS before the first command: a rollback forced meanwhile reads it and
 * will not send traffic to a fleet whose code is changing.
 */
export class DeployRecord {
  private wrote = false
  current: FleetRecord

  constructor(
    private readonly ctx: Pick<RunContext, 'clients' | 'log'>,
    private readonly guard: RecordGuard,
    readonly arn: string,
    readonly before: FleetRecord,
    next: FleetRecord
  ) {
    this.current = next
  }

  async markDeploying(): Promise<void> {
    await writeRecord(this.ctx, this.guard, this.arn, this.current)
    this.wrote = true
  }

  async mark(role: FleetRecord['role']): Promise<void> {
    this.current = { ...this.current, role }
    await writeRecord(this.ctx, this.guard, this.arn, this.current)
  }

  /** The ending before traffic moved: failed when commands went out, else as it was. */
  async endBeforeTraffic(commandsSent: boolean): Promise<FleetRecord> {
    if (commandsSent) {
      this.current = { ...this.current, role: 'failed' }
      await writeRecord(this.ctx, this.guard, this.arn, this.current).catch((e) =>
        this.ctx.log.warning(`Could not record the failed deploy: ${(e as Error).message}`)
      )
      return this.current
    }
    if (this.wrote) await restoreRecord(this.ctx, this.guard, this.arn, this.before)
    this.current = this.before
    return this.before
  }
}

/** Puts a fleet's record back as it was: the tags it had, and none of those it did not. */
export async function restoreRecord(
  ctx: Pick<RunContext, 'clients'>,
  guard: RecordGuard,
  arn: string,
  before: FleetRecord
): Promise<void> {
  const tags = tagsFromRecord(before)
  const written = [TAG.version, TAG.role, TAG.deployedAt, TAG.deployedBy].filter((key) => !(key in tags))
  await guard(`Putting ${targetGroupName(arn)}'s record back`, async () => {
    await writeTags(ctx.clients.elb, arn, tags)
    await removeTags(ctx.clients.elb, arn, written)
  }).catch(() => undefined)
}
