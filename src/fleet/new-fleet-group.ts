// The new fleet's Auto Scaling group during a deploy: scaled to the live fleet's size when it is
// cold, held still from the commands until the deploy ends, its version recorded for instances it
// launches later, and let go again. A fleet of plain instances has none of this and deploys as before.
import { describeGroups, type ScalingGroup, setDesiredCapacity } from '../aws/auto-scaling.js'
import { targetHealth } from '../aws/elbv2.js'
import { targetGroupName } from '../config/arn.js'
import type { Config } from '../config/inputs.js'
import { DeployError, messageOf } from '../config/errors.js'
import { fleetCapacity, type FleetGroups, planScaleUp, type ScaleDecision } from '../plan/auto-scaling.js'
import { clearRetired, writeVersionParameter } from '../records/fleet-parameters.js'
import { type Guard, unguarded } from '../records/parameter-lock.js'
import type { RunContext } from '../runtime/context.js'
import {
  type AutoScalingReport,
  detectOrAssumePlain,
  type FleetToDetect,
  holdStill,
  instanceViews,
  release,
  waitUntilReady
} from './auto-scaling.js'

/**
 * The group behind the idle fleet, or undefined when it is a plain fleet (or several groups back it:
 * which one to scale or hold is the team's call, so it deploys to the registered instances as
 * before). A cold fleet that cannot be scaled safely is refused here, before anything changes.
 */
export async function findNewFleetGroup(
  ctx: RunContext,
  config: GroupConfig,
  newFleet: FleetToDetect,
  stableFleet: FleetToDetect
): Promise<NewFleetGroup | undefined> {
  const [idle] = await detectOrAssumePlain(ctx.clients.autoScaling, [newFleet], ctx.log)
  if (idle.groups.length === 0) return undefined
  const name = targetGroupName(newFleet.targetGroupArn)
  if (idle.groups.length > 1) {
    ctx.log.warning(
      `${name} is backed by ${idle.groups.length} Auto Scaling groups (${idle.groups.map((g) => g.name).join(', ')}); the action scales and holds still a fleet of one group only, so it deploys to the registered instances as for plain instances`
    )
    return undefined
  }
  const [live] = await detectOrAssumePlain(ctx.clients.autoScaling, [stableFleet], ctx.log)
  const scale = planScaleUp(idle, live)
  if (scale.kind === 'refuse') throw new DeployError(`${scale.message}; nothing was changed`)
  return new NewFleetGroup(ctx, config, idle, scale, fleetCapacity(live))
}

type GroupConfig = Pick<Config, 'healthTimeoutMs' | 'parameterPrefix' | 'version'>

export class NewFleetGroup {
  readonly report: AutoScalingReport
  private suspended: string[] = []
  private guard: Guard = unguarded

  constructor(
    private ctx: RunContext,
    private readonly config: GroupConfig,
    readonly fleet: FleetGroups,
    readonly scale: ScaleDecision,
    private readonly liveCapacity: number
  ) {
    const group = fleet.groups[0]
    this.report = { group: group.name, suspended: [], leftAlone: [...group.suspendedProcesses] }
  }

  get group(): ScalingGroup {
    return this.fleet.groups[0]
  }

  /**
   * From here on the group works under the pair's lock: its waits renew the lease (and end should
   * the lock be lost), and each change is made only while the lock is this run's.
   */
  heldWith(ctx: RunContext, guard: Guard): void {
    this.ctx = ctx
    this.guard = guard
  }

  /** What the deploy will do to the group, for the plan and the dry run. */
  planLines(): string[] {
    const lines: string[] = []
    if (this.scale.kind === 'scale') {
      lines.push(
        `scale ${this.group.name} from ${this.scale.from} to ${this.scale.to} instances (the live fleet runs ${this.liveCapacity}) and wait until they are InService, healthy and managed by SSM`
      )
    }
    lines.push(
      `hold ${this.group.name} still (suspend Launch, Terminate, ReplaceUnhealthy, AZRebalance) from the commands until the deploy ends`
    )
    lines.push(`record the version in Parameter Store for the instances ${this.group.name} launches later`)
    return lines
  }

  /**
   * Gets the fleet ready for the commands: a cold fleet scaled and waited for, then the group held
   * still, and the instances to send the commands to read once it is (an instance it launched
   * meanwhile would otherwise serve without them).
   */
  async prepare(budgetMs: number, onSuspended: (group: string, processes: string[]) => void): Promise<string[]> {
    const { ctx, config } = this
    const client = ctx.clients.autoScaling
    const timeoutMs = Math.min(config.healthTimeoutMs, budgetMs)
    if (this.scale.kind === 'scale') {
      const { from, to } = this.scale
      ctx.log.info(`Scaling ${this.group.name} from ${from} to ${to} instances, the live fleet's size`)
      await this.guard(`Scaling ${this.group.name}`, () => setDesiredCapacity(client, this.group.name, to))
      this.report.scaled = { from, to, why: "the live fleet's size" }
      const started = ctx.clock.now()
      await waitUntilReady(client, {
        groupName: this.group.name,
        targetGroupArn: this.fleet.targetGroupArn,
        // Healthy too: an instance's user data installs and starts the app as it boots, and
        // commands sent before it finished would race it (the last installer wins).
        needs: { managedBySsm: true, healthy: true },
        views: instanceViews(ctx.clients),
        clock: ctx.clock,
        log: ctx.log,
        signal: ctx.signal,
        timeoutMs,
        timeoutInput: 'health-timeout'
      })
      this.report.scaled.readyAfterMs = ctx.clock.now() - started
      // A retired fleet taking a deploy is back in use.
      await this.guard('Clearing the retired record', () =>
        clearRetired(ctx.clients.ssm, config.parameterPrefix, this.fleet.targetGroupArn)
      )
    }
    const [current] = await describeGroups(client, [this.group.name])
    if (!current) throw new DeployError(`Auto Scaling group ${this.group.name} no longer exists; nothing was sent`)
    this.suspended = await this.guard(`Holding ${this.group.name} still`, () => holdStill(client, current, ctx.log))
    this.report.suspended = [...this.suspended]
    this.report.leftAlone = current.suspendedProcesses
    onSuspended(this.group.name, this.suspended)
    return this.settledInstances(timeoutMs)
  }

  /** Records the version the fleet now runs, for the instances the group launches from now on. */
  async recordVersion(): Promise<void> {
    const { config } = this
    this.report.versionParameter = await this.guard('Recording the version', () =>
      writeVersionParameter(this.ctx.clients.ssm, config.parameterPrefix, this.fleet.targetGroupArn, config.version)
    )
    this.ctx.log.info(`Recorded ${config.version} in Parameter Store (${this.report.versionParameter})`)
  }

  /**
   * Resumes exactly what this run suspended. A failure is said loudly and left in the post step's
   * state, which tries again: a group left without Launch would not replace a failed instance.
   */
  async letGo(onSuspended: (group: string, processes: string[]) => void): Promise<void> {
    if (this.suspended.length === 0) return
    try {
      await release(this.ctx.clients.autoScaling, this.group.name, this.suspended, this.ctx.log)
      this.report.resumed = true
      this.suspended = []
      onSuspended(this.group.name, [])
    } catch (error) {
      this.report.resumed = false
      this.ctx.log.warning(
        `Could not resume ${this.suspended.join(', ')} on ${this.group.name} (${messageOf(error)}); the post step tries again, else resume them yourself`
      )
    }
  }

  /** Once no instance is still Pending, the fleet's registered instances (draining ones excepted). */
  private async settledInstances(timeoutMs: number): Promise<string[]> {
    const { ctx } = this
    const started = ctx.clock.now()
    for (;;) {
      const [group] = await describeGroups(ctx.clients.autoScaling, [this.group.name])
      const pending = (group?.instances ?? []).filter((i) => i.lifecycleState.startsWith('Pending'))
      if (pending.length === 0) break
      if (ctx.clock.now() - started >= timeoutMs) {
        throw new DeployError(
          `Instances of ${this.group.name} were still Pending after health-timeout: ${pending.map((i) => i.id).join(', ')}; nothing was sent: raise health-timeout or see the group's activity history`
        )
      }
      await ctx.clock.sleep(1000, ctx.signal)
    }
    const targets = await targetHealth(ctx.clients.elb, this.fleet.targetGroupArn)
    const ids = targets.filter((t) => t.state !== 'draining').map((t) => t.id)
    if (ids.length === 0) {
      throw new DeployError(
        `${targetGroupName(this.fleet.targetGroupArn)} (the idle fleet) has no registered instances even after its group ${this.group.name} was checked; nothing was sent`
      )
    }
    return ids
  }
}
