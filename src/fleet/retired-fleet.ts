// A previous fleet that is an Auto Scaling group can be retired (scaled to zero, which costs
// nothing while it is not needed) and brought back for a rollback: scaled to the live fleet's
// size, its new instances installing the version Parameter Store records for it, and waited for
// until every one is healthy, before any traffic is sent to it.
import { setDesiredCapacity, setGroupSize } from '../aws/auto-scaling.js'
import type { Config } from '../config/inputs.js'
import type { ComeBackDecision, FleetGroups, RetireDecision } from '../plan/auto-scaling.js'
import { clearRetired, writeRetired } from '../records/fleet-parameters.js'
import type { RunContext } from '../runtime/context.js'
import { instanceViews, waitUntilReady } from './auto-scaling.js'

/**
 * Scales the group to zero, after recording the size it had: a run that dies in between leaves a
 * record saying the fleet is retired, which a rollback reads to size it again.
 */
export async function retireGroup(
  ctx: RunContext,
  config: Pick<Config, 'parameterPrefix'>,
  fleet: FleetGroups,
  decision: Extract<RetireDecision, { kind: 'retire' }>
): Promise<void> {
  const retiredAt = new Date(ctx.clock.now()).toISOString()
  await writeRetired(ctx.clients.ssm, config.parameterPrefix, fleet.targetGroupArn, {
    group: decision.group,
    ...decision.before,
    retiredAt,
    by: ctx.run.url
  })
  if (decision.before.minSize > 0) await setGroupSize(ctx.clients.autoScaling, decision.group, decision.after)
  else await setDesiredCapacity(ctx.clients.autoScaling, decision.group, 0)
  ctx.log.info(`${decision.group}: desired capacity ${decision.before.desiredCapacity} -> 0 (recorded as retired)`)
}

/**
 * Scales a retired (or shrunk) group back and waits until all its instances are InService and
 * healthy in the fleet's target group. Returns how long that took, which the rollback reports:
 * it is the price of having retired the fleet.
 */
export async function bringBack(
  ctx: RunContext,
  config: Pick<Config, 'parameterPrefix'>,
  fleet: FleetGroups,
  decision: Exclude<ComeBackDecision, { kind: 'refuse' }>,
  timeoutMs: number
): Promise<{ readyAfterMs: number; instanceIds: string[] }> {
  const group = fleet.groups[0]
  const started = ctx.clock.now()
  if (decision.kind === 'scale') {
    ctx.log.info(
      `Scaling ${group.name} from ${decision.from} to ${decision.to.desiredCapacity} instances for the rollback`
    )
    if (decision.to.minSize !== group.minSize) await setGroupSize(ctx.clients.autoScaling, group.name, decision.to)
    else await setDesiredCapacity(ctx.clients.autoScaling, group.name, decision.to.desiredCapacity)
  }
  const ready = await waitUntilReady(ctx.clients.autoScaling, {
    groupName: group.name,
    targetGroupArn: fleet.targetGroupArn,
    needs: { managedBySsm: false, healthy: true },
    views: instanceViews(ctx.clients),
    clock: ctx.clock,
    log: ctx.log,
    signal: ctx.signal,
    timeoutMs,
    timeoutInput: 'health-timeout'
  })
  await clearRetired(ctx.clients.ssm, config.parameterPrefix, fleet.targetGroupArn)
  return { readyAfterMs: ctx.clock.now() - started, instanceIds: ready.instanceIds }
}
