// Fleets that are Auto Scaling groups, by intent: find the groups behind the fleets, scale a group
// and wait until it is ready, hold a group still while it is checked and let it go afterwards.
// Decisions come from src/plan/auto-scaling.ts; calls from src/aws/auto-scaling.ts.
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling'
import type { AwsClients } from '../aws/clients.js'
import { targetHealth } from '../aws/elbv2.js'
import { describeInstances, IDS_PER_DESCRIBE } from '../aws/ssm-commands.js'
import { chunks } from '../aws/batches.js'
import {
  describeAllGroups,
  describeGroups,
  groupNamesOfInstances,
  resumeProcesses,
  type ScalingGroup,
  suspendProcesses
} from '../aws/auto-scaling.js'
import type { Clock } from '../runtime/clock.js'
import { DeployError } from '../config/errors.js'
import type { Log } from '../runtime/log.js'
import type { RetiredRecord } from '../records/fleet-parameters.js'
import {
  type FleetGroups,
  fleetGroups,
  groupNamesToDescribe,
  needsGroupListing,
  processesToResume,
  processesToSuspend,
  type Readiness,
  type ReadinessNeeds,
  readiness
} from '../plan/auto-scaling.js'

/** The Auto Scaling groups behind a fleet, as status, the plan and the summary show them. */
export interface FleetGroupsReport {
  groups: Array<{ name: string; desired: number; min: number; max: number; inService: number; suspended: string[] }>
  /** Set while the fleet is retired: when, by which run, and the size it had. */
  retired?: { at: string; by: string; desiredCapacity: number }
}

export interface AutoScalingReport {
  group: string
  /** A scale before the work: from and to, why, and how long until the instances were ready. */
  scaled?: { from: number; to: number; why: string; readyAfterMs?: number }
  /** Processes the run suspended while the fleet was checked. */
  suspended: string[]
  /** Processes already suspended before the run, left alone. */
  leftAlone: string[]
  /** True once what the run suspended was resumed; false when that failed. */
  resumed?: boolean
  /** The Parameter Store parameter written with the fleet's version. */
  versionParameter?: string
  /** Set by retire: the size the group had. */
  retiredFrom?: { desiredCapacity: number; minSize: number }
}

export interface FleetToDetect {
  targetGroupArn: string
  registeredIds: readonly string[]
}

/**
 * The groups behind each fleet. Instances are looked up by id (50 a call); a fleet with no
 * registered instance (cold, or retired) is found by listing the region's groups and matching
 * their target groups, since it has no instance to look up.
 */
export async function detectFleetGroups(
  client: AutoScalingClient,
  fleets: readonly FleetToDetect[]
): Promise<FleetGroups[]> {
  let groups: ScalingGroup[]
  if (needsGroupListing(fleets.map((f) => f.registeredIds.length))) {
    groups = await describeAllGroups(client)
  } else {
    const groupOf = await groupNamesOfInstances(
      client,
      fleets.flatMap((f) => f.registeredIds)
    )
    groups = await describeGroups(client, groupNamesToDescribe(groupOf))
  }
  return fleets.map((f) => fleetGroups(f.targetGroupArn, f.registeredIds, groups))
}

/**
 * Detection that a role without the Auto Scaling read permissions does not fail: its fleets are
 * treated as plain instances, as before this action knew about groups, and the log says so.
 */
export async function detectOrAssumePlain(
  client: AutoScalingClient,
  fleets: readonly FleetToDetect[],
  log: Log
): Promise<FleetGroups[]> {
  try {
    return await detectFleetGroups(client, fleets)
  } catch (error) {
    if (!isAccessDenied(error)) throw error
    log.warning(
      `Auto Scaling groups were not looked up (${(error as Error).name}: grant autoscaling:DescribeAutoScalingInstances and autoscaling:DescribeAutoScalingGroups); the fleets are treated as plain instances`
    )
    return fleets.map((f) => fleetGroups(f.targetGroupArn, f.registeredIds, []))
  }
}

function isAccessDenied(error: unknown): boolean {
  const text = `${(error as Error)?.name ?? ''} ${(error as Error)?.message ?? ''}`
  return /AccessDenied|UnauthorizedOperation|not authorized/i.test(text)
}

/** The load balancer's and SSM's view of the instances, read through the action's clients. */
export function instanceViews(clients: Pick<AwsClients, 'elb' | 'ssm'>): InstanceViews {
  return {
    targetStates: async (targetGroupArn) =>
      new Map((await targetHealth(clients.elb, targetGroupArn)).map((t) => [t.id, t.state])),
    managedBySsm: async (instanceIds) => {
      const pages = await Promise.all(
        chunks(instanceIds, IDS_PER_DESCRIBE).map((ids) => describeInstances(clients.ssm, ids))
      )
      return new Set(
        pages
          .flat()
          .filter((i) => i.PingStatus === 'Online')
          .map((i) => i.InstanceId ?? '')
      )
    }
  }
}

/** How the wait reads the load balancer's and SSM's view of the instances. */
export interface InstanceViews {
  /** Instance id -> target health state in the fleet's target group. */
  targetStates(targetGroupArn: string): Promise<Map<string, string>>
  /** Those of the instances SSM manages and sees online. */
  managedBySsm(instanceIds: readonly string[]): Promise<Set<string>>
}

export interface WaitReadyOptions {
  groupName: string
  targetGroupArn: string
  needs: ReadinessNeeds
  views: InstanceViews
  clock: Clock
  log: Log
  timeoutMs: number
  /** What the timeout is called in the error (the input the user can raise). */
  timeoutInput: string
  signal?: AbortSignal
  pollMs?: number
}

/**
 * Waits until the group has its desired capacity InService, registered (and healthy or managed by
 * SSM, as asked). A launch takes minutes on AWS, so the poll is slow by default; the timeout says
 * what was still missing, which is what the user needs to tell a slow boot from a broken one.
 */
export async function waitUntilReady(client: AutoScalingClient, options: WaitReadyOptions): Promise<Readiness> {
  const { clock, log, groupName } = options
  const started = clock.now()
  const pollMs = options.pollMs ?? Math.min(5000, Math.max(250, Math.round(options.timeoutMs / 100)))
  let lastLine = ''
  for (;;) {
    const [group] = await describeGroups(client, [groupName])
    if (!group)
      throw new DeployError(`Auto Scaling group ${groupName} no longer exists; check who deleted it, then deploy again`)
    const inService = group.instances.filter((i) => i.lifecycleState === 'InService').map((i) => i.id)
    const [states, managed] = await Promise.all([
      options.views.targetStates(options.targetGroupArn),
      options.needs.managedBySsm && inService.length > 0
        ? options.views.managedBySsm(inService)
        : Promise.resolve(new Set<string>())
    ])
    const r = readiness(group, states, managed, options.needs)
    if (r.summary !== lastLine) log.info(r.summary)
    lastLine = r.summary
    if (r.ready) return r
    if (clock.now() - started >= options.timeoutMs) {
      throw new DeployError(
        `Auto Scaling group ${groupName} was not ready after ${options.timeoutInput} (${Math.round(options.timeoutMs / 1000)}s): ${r.missing.join('; ')}; raise ${options.timeoutInput} if instances take longer to boot, or see the group's activity history`
      )
    }
    await clock.sleep(pollMs, options.signal)
  }
}

/**
 * Suspends the hold-still processes the group does not already have suspended, and returns
 * exactly those, so that only they are resumed later.
 */
export async function holdStill(client: AutoScalingClient, group: ScalingGroup, log: Log): Promise<string[]> {
  const processes = processesToSuspend(group)
  const kept =
    group.suspendedProcesses.length > 0
      ? ` (already suspended by someone else, left alone: ${group.suspendedProcesses.join(', ')})`
      : ''
  if (processes.length === 0) {
    log.info(`${group.name}: ${kept ? `nothing to suspend${kept}` : 'nothing to suspend'}`)
    return []
  }
  await suspendProcesses(client, group.name, processes)
  log.info(`${group.name}: suspended ${processes.join(', ')} while the fleet is checked${kept}`)
  return processes
}

/** Resumes what `holdStill` suspended and is still suspended; nothing else. */
export async function release(
  client: AutoScalingClient,
  groupName: string,
  suspendedByAction: readonly string[],
  log: Log
): Promise<void> {
  if (suspendedByAction.length === 0) return
  const [group] = await describeGroups(client, [groupName])
  if (!group) return
  const processes = processesToResume(suspendedByAction, group.suspendedProcesses)
  if (processes.length === 0) return
  await resumeProcesses(client, groupName, processes)
  log.info(`${groupName}: resumed ${processes.join(', ')}`)
}

/** The groups behind a fleet for the report; undefined for a plain fleet, so its report is as before. */
export function groupsReport(fleet: FleetGroups, retired?: RetiredRecord): FleetGroupsReport | undefined {
  if (fleet.groups.length === 0) return undefined
  return {
    groups: fleet.groups.map((g) => ({
      name: g.name,
      desired: g.desiredCapacity,
      min: g.minSize,
      max: g.maxSize,
      inService: g.instances.filter((i) => i.lifecycleState === 'InService').length,
      suspended: g.suspendedProcesses
    })),
    ...(retired ? { retired: { at: retired.retiredAt, by: retired.by, desiredCapacity: retired.desiredCapacity } } : {})
  }
}
