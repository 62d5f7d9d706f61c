// Fleets that are Auto Scaling groups, by intent: find the groups behind the fleets, scale a group
// and wait until it is ready, hold a group still while it is checked and let it go afterwards.
// Decisions come from src/plan/auto-scaling.ts; calls from src/aws/auto-scaling.ts.
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling'
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
