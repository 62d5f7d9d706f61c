// Pure decisions about fleets that are Auto Scaling groups: which groups back a fleet, how far to
// scale a cold idle fleet, what to suspend while it is checked and what to resume after, when a
// scaled fleet is ready, and how to retire a fleet and bring it back. Plain data in, plain data
// out; the I/O lives in src/aws/auto-scaling.ts and the orchestration in src/fleet/auto-scaling.ts.
import type { ScalingGroup } from '../aws/auto-scaling.js'

/**
 * Suspended on the new fleet's group from the commands until traffic has moved: a launch would
 * add an instance that never got the commands, a termination or replacement would remove one that
 * is being checked (or mask a version that fails its checks), a rebalance does both.
 */
export const HOLD_STILL_PROCESSES: readonly string[] = ['Launch', 'Terminate', 'ReplaceUnhealthy', 'AZRebalance']

/** The groups behind one fleet (its target group), and its instances that belong to none of them. */
export interface FleetGroups {
  targetGroupArn: string
  /** Groups attached to the target group, by name. */
  groups: ScalingGroup[]
  /** Registered instances no attached group holds: all of a plain fleet's instances. */
  plainInstanceIds: string[]
}

export function fleetGroups(
  targetGroupArn: string,
  registeredIds: readonly string[],
  groups: readonly ScalingGroup[]
): FleetGroups {
  const attached = groups
    .filter((g) => g.targetGroupArns.includes(targetGroupArn))
    .filter((g, i, all) => all.findIndex((o) => o.name === g.name) === i)
    .sort((a, b) => a.name.localeCompare(b.name))
  const held = new Set(attached.flatMap((g) => g.instances.map((i) => i.id)))
  return { targetGroupArn, groups: attached, plainInstanceIds: registeredIds.filter((id) => !held.has(id)) }
}

/** Group names to describe: those the fleet's registered instances belong to. */
export function groupNamesToDescribe(groupOfInstance: ReadonlyMap<string, string>): string[] {
  return [...new Set(groupOfInstance.values())].sort()
}

/**
 * A fleet with no registered instance has no instance to look its group up by (a cold or retired
 * fleet): only a listing of the region's groups, matched on their target groups, finds it.
 */
export function needsGroupListing(registeredCounts: readonly number[]): boolean {
  return registeredCounts.some((n) => n === 0)
}

export function isAutoScalingFleet(fleet: FleetGroups): boolean {
  return fleet.groups.length > 0
}

/** How many instances the fleet is meant to run: its groups' desired capacity plus its plain instances. */
export function fleetCapacity(fleet: FleetGroups): number {
  return fleet.groups.reduce((sum, g) => sum + g.desiredCapacity, 0) + fleet.plainInstanceIds.length
}

export type ScaleDecision =
  { kind: 'none' } | { kind: 'scale'; group: string; from: number; to: number } | { kind: 'refuse'; message: string }

/**
 * A cold idle fleet (smaller than the live one) is scaled to the live fleet's capacity before the
 * deploy: flipping all traffic onto a smaller fleet would overload it. Only a fleet one group
 * backs is scaled (with several, which one should grow is the user's call), and never past the
 * group's MaxSize (changing it would overrule the team's own limit).
 */
export function planScaleUp(idle: FleetGroups, live: FleetGroups): ScaleDecision {
  const liveCapacity = fleetCapacity(live)
  const idleCapacity = fleetCapacity(idle)
  if (idle.groups.length === 0 || idleCapacity >= liveCapacity) return { kind: 'none' }
  const names = idle.groups.map((g) => g.name).join(', ')
  if (idle.groups.length > 1) {
    return {
      kind: 'refuse',
      message: `The idle fleet is backed by ${idle.groups.length} Auto Scaling groups (${names}) and is meant to run ${idleCapacity} instances, fewer than the live fleet's ${liveCapacity}; scale them to ${liveCapacity} in all yourself, then deploy again`
    }
  }
  const group = idle.groups[0]
  const to = liveCapacity - idle.plainInstanceIds.length
  if (to > group.maxSize) {
    return {
      kind: 'refuse',
      message: `Auto Scaling group ${group.name} can run at most ${group.maxSize} instances (MaxSize) but the live fleet runs ${liveCapacity}; raise its MaxSize to at least ${to}, then deploy again`
    }
  }
  return { kind: 'scale', group: group.name, from: group.desiredCapacity, to }
}

/** What to suspend: the hold-still processes the group does not have suspended already. */
export function processesToSuspend(group: ScalingGroup): string[] {
  return HOLD_STILL_PROCESSES.filter((p) => !group.suspendedProcesses.includes(p))
}

/**
 * What to resume: exactly what this action suspended and is still suspended, never what the
 * user had suspended before (which `processesToSuspend` left out, so it is not in the list).
 */
export function processesToResume(
  suspendedByAction: readonly string[],
  currentlySuspended: readonly string[]
): string[] {
  return [...new Set(suspendedByAction)].filter((p) => currentlySuspended.includes(p))
}

/** What a scaled fleet must reach before the action goes on. */
export interface ReadinessNeeds {
  /** Every instance managed by SSM (commands will be sent to it). */
  managedBySsm: boolean
  /** Every target healthy (traffic will be sent to it without commands: a rollback). */
  healthy: boolean
}

export interface Readiness {
  ready: boolean
  /** InService instances, the ones the action will act on once ready. */
  instanceIds: string[]
  /** One line for the log, e.g. "web-green-asg: 2/3 InService, 2 registered, 1 managed by SSM". */
  summary: string
  /** What is still missing, for the error at the timeout. */
  missing: string[]
}

const isActive = (state: string): boolean => state.startsWith('Pending') || state === 'InService'

/**
 * A group is ready when exactly its desired capacity is InService (none still Pending), every one
 * of them registered in the fleet's target group (and healthy there, if asked) and, if asked,
 * managed by SSM.
 */
export function readiness(
  group: ScalingGroup,
  targetStates: ReadonlyMap<string, string>,
  managed: ReadonlySet<string>,
  needs: ReadinessNeeds
): Readiness {
  const active = group.instances.filter((i) => isActive(i.lifecycleState))
  const inService = active.filter((i) => i.lifecycleState === 'InService').map((i) => i.id)
  const registered = inService.filter((id) => {
    const state = targetStates.get(id)
    return state !== undefined && state !== 'draining' && state !== 'unused'
  })
  const healthy = inService.filter((id) => targetStates.get(id) === 'healthy')
  const ssm = inService.filter((id) => managed.has(id))
  const missing: string[] = []
  if (inService.length < group.desiredCapacity || active.length !== inService.length) {
    missing.push(`${inService.length} of ${group.desiredCapacity} instances InService`)
  }
  const notRegistered = inService.filter((id) => !registered.includes(id))
  if (notRegistered.length > 0) missing.push(`not registered in the target group: ${shortList(notRegistered)}`)
  if (needs.healthy) {
    const notHealthy = inService.filter((id) => !healthy.includes(id))
    if (notHealthy.length > 0)
      missing.push(
        `not healthy: ${shortList(notHealthy.map((id) => `${id} ${targetStates.get(id) ?? 'unregistered'}`))}`
      )
  }
  if (needs.managedBySsm) {
    const notManaged = inService.filter((id) => !managed.has(id))
    if (notManaged.length > 0) missing.push(`not managed by SSM yet: ${shortList(notManaged)}`)
  }
  const parts = [`${inService.length}/${group.desiredCapacity} InService`, `${registered.length} registered`]
  if (needs.healthy) parts.push(`${healthy.length} healthy`)
  if (needs.managedBySsm) parts.push(`${ssm.length} managed by SSM`)
  return {
    ready: missing.length === 0 && inService.length === group.desiredCapacity,
    instanceIds: inService,
    summary: `${group.name}: ${parts.join(', ')}`,
    missing
  }
}

/** What `retire` found and recorded: the size to give the group back when it is needed again. */
export interface RetiredSize {
  minSize: number
  desiredCapacity: number
}

export type RetireDecision =
  | { kind: 'retire'; group: string; before: RetiredSize; after: RetiredSize }
  | { kind: 'already'; group: string }
  | { kind: 'refuse'; message: string }

/**
 * Retire scales the previous fleet's one group to zero (its MinSize too when it is above zero, or
 * Auto Scaling would refuse). A plain fleet, or one with instances no group holds, is refused:
 * the action would leave part of it running while saying it was retired.
 */
export function planRetire(previous: FleetGroups, name: string): RetireDecision {
  if (previous.groups.length === 0) {
    return {
      kind: 'refuse',
      message: `Fleet ${name} is not an Auto Scaling group; retire scales a group to zero (stop plain instances yourself)`
    }
  }
  if (previous.groups.length > 1) {
    const names = previous.groups.map((g) => g.name).join(', ')
    return {
      kind: 'refuse',
      message: `Fleet ${name} is backed by ${previous.groups.length} Auto Scaling groups (${names}); retire handles a fleet of one group`
    }
  }
  if (previous.plainInstanceIds.length > 0) {
    return {
      kind: 'refuse',
      message: `Fleet ${name} has instances its Auto Scaling group does not hold (${shortList(previous.plainInstanceIds)}); deregister them first, then retire`
    }
  }
  const group = previous.groups[0]
  if (group.desiredCapacity === 0 && group.instances.every((i) => !isActive(i.lifecycleState)))
    return { kind: 'already', group: group.name }
  return {
    kind: 'retire',
    group: group.name,
    before: { minSize: group.minSize, desiredCapacity: group.desiredCapacity },
    after: { minSize: 0, desiredCapacity: 0 }
  }
}

/**
 * Bringing a retired fleet back for a rollback: the live fleet's capacity (it is about to take
 * all of that traffic), with the MinSize it had before it was retired.
 */
export type ComeBackDecision =
  | { kind: 'none' }
  | { kind: 'scale'; group: string; from: number; to: RetiredSize }
  | { kind: 'refuse'; message: string }

export function planComeBack(
  retired: FleetGroups,
  liveCapacity: number,
  recorded: RetiredSize | undefined
): ComeBackDecision {
  if (retired.groups.length !== 1) return { kind: 'none' }
  const group = retired.groups[0]
  const to = Math.max(liveCapacity, recorded?.minSize ?? 0)
  if (group.desiredCapacity >= to) return { kind: 'none' }
  if (to > group.maxSize) {
    return {
      kind: 'refuse',
      message: `Auto Scaling group ${group.name} can run at most ${group.maxSize} instances (MaxSize) but the live fleet runs ${liveCapacity}; raise its MaxSize, then roll back again`
    }
  }
  return {
    kind: 'scale',
    group: group.name,
    from: group.desiredCapacity,
    to: { minSize: Math.min(recorded?.minSize ?? group.minSize, to), desiredCapacity: to }
  }
}

function shortList(items: readonly string[]): string {
  const shown = items.slice(0, 5).join(', ')
  return items.length > 5 ? `${shown} and ${items.length - 5} more` : shown
}
