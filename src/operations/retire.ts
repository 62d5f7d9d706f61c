import { targetGroupName } from '../config/arn.js'
import { DeployError } from '../config/errors.js'
import type { Config } from '../config/inputs.js'
import { detectOrAssumePlain, groupsReport } from '../fleet/auto-scaling.js'
import { retireGroup } from '../fleet/retired-fleet.js'
import { planRetire } from '../plan/auto-scaling.js'
import { describeWeights } from '../plan/traffic-state.js'
import type { RunReport } from '../report/report.js'
import type { RunContext } from '../runtime/context.js'
import { discover } from './discover.js'
import { OperationRun, withThePair } from './lifecycle.js'

/**
 * `operation: retire`: scales the previous fleet's Auto Scaling group to zero once the new version
 * has baked, and records that on AWS. Only a fleet that takes no traffic on any route is retired;
 * a rollback brings it back (scaled to the live fleet's size, healthy) before it sends it traffic.
 */
export async function retire(config: Config, ctx: RunContext): Promise<RunReport> {
  const run = new OperationRun(config, ctx)
  const found = await discover(config, ctx.clients.elb, ctx.routesAtStart)
  const { traffic } = found
  if (!traffic.percent || traffic.mixed || !traffic.live || !traffic.idle) {
    const weights = traffic.percent
      ? describeWeights(traffic.percent)
      : traffic.routes.map((r) => describeWeights(r.weights)).join(' vs ')
    throw new DeployError(
      `Traffic is not all on one fleet (${weights}); retire scales down only a fleet that takes none: finish the canary with promote or undo it with rollback first`
    )
  }
  const previous = traffic.idle
  const name = targetGroupName(previous)
  const [fleet] = await detectOrAssumePlain(
    ctx.clients.autoScaling,
    [{ targetGroupArn: previous, registeredIds: found.fleets[previous].instances.map((t) => t.id) }],
    ctx.log
  )
  found.fleets[previous].autoScaling = groupsReport(fleet)
  Object.assign(run.report.outputs, { live: traffic.live, idle: previous })
  const decision = planRetire(fleet, name)
  if (decision.kind === 'refuse') throw new DeployError(`${decision.message}; nothing was changed`)
  if (decision.kind === 'already') {
    return run.end(
      found,
      { routes: found.routes },
      'unchanged',
      `${name} is already retired: ${decision.group} runs no instances`
    )
  }
  const { before } = decision
  const what = `scale ${decision.group} from ${before.desiredCapacity} to 0 instances${before.minSize > 0 ? ` (MinSize ${before.minSize} to 0)` : ''}`
  ctx.log.info(`Retire ${name}: ${what}`)
  if (config.dryRun) return run.dryRun(found, `Dry run: would ${what}; nothing was changed`)

  return withThePair(run, found, { operation: 'retire', trafficMoved: false }, async () => {
    await retireGroup(ctx, config, fleet, decision)
    run.report.autoScaling = { group: decision.group, suspended: [], leftAlone: [], retiredFrom: before }
    return run.end(
      found,
      { routes: found.routes },
      'succeeded',
      `Retired ${name}: ${decision.group} scaled from ${before.desiredCapacity} to 0 instances; a rollback scales it back to the live fleet's size and waits for it to be healthy before it moves traffic`
    )
  })
}
