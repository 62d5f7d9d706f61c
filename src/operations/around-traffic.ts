// The steps deploy and promote take around the traffic shift: the run-once hooks
// (before-traffic-commands, contract-commands) and the preview route. Each is a line in the
// operation's story; the bookkeeping (report, post-step state, records) is here.
import type { InstanceHealth } from '../aws/elbv2.js'
import { targetGroupName } from '../config/arn.js'
import { DeployError, messageOf } from '../config/errors.js'
import { type HookRun, runOnce } from '../fleet/run-once.js'
import type { Contract } from '../plan/contract-guard.js'
import { chooseHookInstance, HOOK_INPUT, type HookName } from '../plan/run-once-plan.js'
import { forgetContract, recordContract } from '../records/contract-record.js'
import type { FleetRecord } from '../records/fleet-records.js'
import { PreviewRoute } from '../traffic/preview-route.js'
import type { Discovery } from './discover.js'
import type { Ending, HeldPair, OperationRun } from './lifecycle.js'

/**
 * before-traffic-commands, once, on one instance of the new fleet, after its commands and health
 * checks, before any traffic. Throws when they fail: the deploy then ends with no traffic moved.
 */
export async function runBeforeTrafficCommands(
  run: OperationRun,
  pair: HeldPair,
  newFleet: string,
  instances: InstanceHealth[]
): Promise<void> {
  const lines = run.config.beforeTrafficCommands
  if (lines.length === 0) return
  try {
    await runHook(run, pair, 'before-traffic', lines, newFleet, instances)
  } catch (error) {
    if (run.ctx.signal.aborted) throw error
    throw new DeployError(`${messageOf(error)}; no traffic was moved: see its output below, fix it, then deploy again`)
  }
}

/**
 * contract-commands, once, on one instance of the new fleet, after it took all traffic and the
 * final hold passed. The contract is recorded before it is sent: should this run die halfway, a
 * rollback still knows the old fleet may not work with the data. From here on the new fleet keeps
 * the traffic whatever happens: going back is what a contract rules out.
 */
export async function runContractCommands(
  run: OperationRun,
  pair: HeldPair,
  newFleet: string,
  record: FleetRecord,
  instances: InstanceHealth[],
  oldFleet: string
): Promise<Ending | undefined> {
  const { ctx, config } = run
  const lines = config.contractCommands
  if (lines.length === 0) return undefined
  pair.trafficSettled()
  const live = `${targetGroupName(newFleet)}${record.version ? ` (${record.version})` : ''} has all traffic`
  const contract: Contract = {
    state: 'started',
    at: new Date(ctx.clock.now()).toISOString(),
    deployedAt: record.deployedAt ?? 'unknown',
    run: ctx.run.url
  }
  try {
    await recordContract(ctx, newFleet, contract)
  } catch (error) {
    return {
      result: 'failed',
      headline: `${live}, but contract-commands did not run: the contract could not be recorded (${messageOf(error)}), and a rollback would not know of it; grant elasticloadbalancing:AddTags on the target groups, then run promote with contract-commands`
    }
  }
  let sent = false
  try {
    await runHook(run, pair, 'contract', lines, newFleet, instances, () => (sent = true), record.version)
    contract.state = 'done'
    await recordContract(ctx, newFleet, contract).catch((e) =>
      warn(run, `Could not record the contract as done: ${messageOf(e)}`)
    )
    return undefined
  } catch (error) {
    const cancelled = ctx.signal.aborted
    if (!sent) {
      // Nothing went out: nothing was contracted, and the old fleet stays a rollback target.
      await forgetContract(ctx, newFleet).catch((e) =>
        warn(run, `Could not take back the contract record: ${messageOf(e)}`)
      )
      return {
        result: 'failed',
        headline: `${live}, but contract-commands were not sent (${cancelled ? 'the run was cancelled' : messageOf(error)}); nothing was contracted: fix it, then run promote with contract-commands`
      }
    }
    contract.state = 'failed'
    await recordContract(ctx, newFleet, contract).catch((e) =>
      warn(run, `Could not record the failed contract: ${messageOf(e)}`)
    )
    const what = cancelled ? 'were interrupted by the cancel' : `failed (${messageOf(error)})`
    return {
      result: 'failed',
      headline: `${live} and keeps it, but contract-commands ${what}: the data may be half-contracted, so rollback to ${targetGroupName(oldFleet)} is refused; fix the contract, then run promote with contract-commands to run it again`
    }
  }
}

/**
 * The preview route of a deploy, planned while nothing has changed yet (a dry run shows it; a
 * listener with no free priority fails the deploy before any command is sent).
 */
export async function planPreview(
  run: OperationRun,
  found: Discovery,
  newFleet: string
): Promise<PreviewRoute | undefined> {
  const { config, ctx } = run
  if (!config.preview) return undefined
  const preview = await PreviewRoute.plan(
    ctx,
    { routes: found.routes, pair: found.traffic.pair },
    config.preview,
    config.version,
    newFleet,
    run.report.warnings
  )
  run.report.preview = preview.report
  return preview
}

/** The preview rules a paused canary left open, for the promote or rollback that ends it. */
export async function findPreview(run: OperationRun, found: Discovery): Promise<PreviewRoute | undefined> {
  const preview = await PreviewRoute.find(run.ctx, { routes: found.routes, pair: found.traffic.pair })
  if (preview) run.report.preview = preview.report
  return preview
}

async function runHook(
  run: OperationRun,
  pair: HeldPair,
  hook: HookName,
  lines: string[],
  fleet: string,
  instances: InstanceHealth[],
  onSent?: () => void,
  version?: string
): Promise<HookRun> {
  const { config, ctx } = run
  const instanceId = chooseHookInstance(
    instances.map((i) => i.id),
    instances
  )
  if (!instanceId) {
    throw new DeployError(`${HOOK_INPUT[hook]}: no healthy instance of ${targetGroupName(fleet)} to run them on`)
  }
  const sentBefore = run.report.commands?.commandIds ?? []
  return runOnce(
    config,
    ctx,
    { hook, lines, instanceId, version },
    {
      onSent: (ids) => {
        onSent?.()
        pair.commandsSent([...sentBefore, ...ids])
      },
      onReport: (hookRun) => {
        run.report.hooks = [...(run.report.hooks ?? []).filter((h) => h.hook !== hook), hookRun]
      }
    }
  )
}

function warn(run: OperationRun, message: string): void {
  run.ctx.log.warning(message)
  run.report.warnings.push(message)
}
