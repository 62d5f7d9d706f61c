import { removeTags, writeTags } from '../aws/elbv2.js'
import { targetGroupName } from '../config/arn.js'
import type { RunContext } from '../runtime/context.js'
import { type FleetRecord, TAG, tagsFromRecord } from './fleet-records.js'

/** Writes a fleet's record on AWS, where a later job (a promote, a status) reads it. */
export async function writeRecord(
  ctx: Pick<RunContext, 'clients'>,
  arn: string,
  fleetRecord: FleetRecord
): Promise<void> {
  await writeTags(ctx.clients.elb, arn, tagsFromRecord(fleetRecord))
}

/**
 * Records a fleet once traffic has settled: a failed tag write then must not turn the run's result
 * around (the weights are what they are), so it becomes a warning in the log and the summary.
 */
export async function recordAfterTraffic(
  ctx: Pick<RunContext, 'clients' | 'log'>,
  warnings: string[],
  arn: string,
  fleetRecord: FleetRecord
): Promise<void> {
  await writeRecord(ctx, arn, fleetRecord).catch((e) => {
    const message = `Could not record ${targetGroupName(arn)} as ${fleetRecord.role} (${(e as Error).message}); status will show stale records until the next run`
    ctx.log.warning(message)
    warnings.push(message)
  })
}

/**
 * The new fleet's record through a deploy: `deploying` as the commands go out, `canary` once it
 * may take traffic, `failed` when they went out and the deploy failed. A deploy that stops before
 * sending anything puts the record back as it was, so the fleet stays a valid rollback target.
 */
export class DeployRecord {
  private written: Promise<boolean> = Promise.resolve(false)
  current: FleetRecord

  constructor(
    private readonly ctx: Pick<RunContext, 'clients' | 'log'>,
    readonly arn: string,
    private readonly before: FleetRecord,
    next: FleetRecord
  ) {
    this.current = next
  }

  /** Starts writing `deploying` without waiting: it overlaps the first send. */
  markDeploying(): void {
    this.written = writeRecord(this.ctx, this.arn, this.current).then(() => true)
    this.written.catch(() => undefined)
  }

  /** Waits for the `deploying` write; its failure fails the deploy before traffic moves. */
  async settled(): Promise<void> {
    await this.written
  }

  async mark(role: FleetRecord['role']): Promise<void> {
    this.current = { ...this.current, role }
    await writeRecord(this.ctx, this.arn, this.current)
  }

  /** The ending before traffic moved: failed when commands went out, else as it was. */
  async endBeforeTraffic(commandsSent: boolean): Promise<FleetRecord> {
    const wrote = await this.written.catch(() => false)
    if (commandsSent) {
      this.current = { ...this.current, role: 'failed' }
      await writeRecord(this.ctx, this.arn, this.current).catch((e) =>
        this.ctx.log.warning(`Could not record the failed deploy: ${(e as Error).message}`)
      )
      return this.current
    }
    if (wrote) await restoreRecord(this.ctx, this.arn, this.before)
    this.current = this.before
    return this.before
  }
}

async function restoreRecord(ctx: Pick<RunContext, 'clients'>, arn: string, before: FleetRecord): Promise<void> {
  const tags = tagsFromRecord(before)
  const written = [TAG.version, TAG.role, TAG.deployedAt, TAG.deployedBy].filter((key) => !(key in tags))
  await writeTags(ctx.clients.elb, arn, tags).catch(() => undefined)
  await removeTags(ctx.clients.elb, arn, written).catch(() => undefined)
}
