// Auto Scaling operations the action calls (Query protocol, API version 2011-01-01), over the
// shared world. These only change the model, as the API does; launching, registering and
// terminating instances is the group controller's job (sandbox/fleet/auto-scaling.ts), which
// reads the model on every tick, so a new desired capacity or a resumed process takes effect the
// way it does on AWS: a moment after the call returns.

import { SCALING_PROCESSES, type AutoScalingGroup, type GroupInstance, type World } from '../world.js'
import type { Handler, ServiceContext } from './context.js'
import { asInt, asList, asObj, asStr } from './elbv2-actions.js'
import { ApiError } from './errors.js'
import { paginate } from './pagination.js'
import type { QueryParams, QueryValue } from './query-protocol.js'
import { intRange, lengthRange, required } from './validate.js'

export const AUTOSCALING_XMLNS = 'http://autoscaling.amazonaws.com/doc/2011-01-01/'
export const AUTOSCALING_VERSION = '2011-01-01'
const V = 'ValidationError'
const INSTANCE_TYPE = 't3.micro'

const strings = (value: QueryValue | undefined): string[] =>
  asList(value).filter((v): v is string => typeof v === 'string')
const asBool = (value: QueryValue | undefined): boolean | undefined =>
  value === undefined ? undefined : value === 'true'
const invalidToken = (): ApiError => new ApiError('InvalidNextToken', 'The token is not valid.')

/** The message AWS gives for an operation on a group that does not exist. */
export const groupNotFound = (name: string): ApiError =>
  new ApiError(V, `AutoScalingGroup name not found - AutoScalingGroup ${name} not found`)

function groupOrThrow(world: World, name: string | undefined): AutoScalingGroup {
  const n = required(V, name, 'AutoScalingGroupName')
  lengthRange(V, n, 'AutoScalingGroupName', 1, 255)
  const group = world.autoScalingGroups.get(n)
  if (!group) throw groupNotFound(n)
  return group
}

/** Instances a group still has: terminated ones leave its description. */
const current = (group: AutoScalingGroup): GroupInstance[] =>
  [...group.instances.values()].filter((i) => i.lifecycleState !== 'Terminated')

const launchTemplateShape = (g: AutoScalingGroup) => ({
  LaunchTemplateId: g.launchTemplate.id,
  LaunchTemplateName: g.launchTemplate.name,
  Version: g.launchTemplate.version
})

const groupShape = (g: AutoScalingGroup, includeInstances: boolean) => ({
  AutoScalingGroupName: g.name,
  AutoScalingGroupARN: g.arn,
  LaunchTemplate: launchTemplateShape(g),
  MinSize: g.minSize,
  MaxSize: g.maxSize,
  DesiredCapacity: g.desiredCapacity,
  DefaultCooldown: g.defaultCooldownS,
  AvailabilityZones: g.availabilityZones,
  LoadBalancerNames: [],
  TargetGroupARNs: g.targetGroupArns,
  HealthCheckType: g.healthCheckType,
  HealthCheckGracePeriod: g.healthCheckGracePeriodS,
  Instances: includeInstances
    ? current(g).map((i) => ({
        InstanceId: i.id,
        InstanceType: INSTANCE_TYPE,
        AvailabilityZone: i.availabilityZone,
        LifecycleState: i.lifecycleState,
        HealthStatus: i.healthStatus,
        LaunchTemplate: launchTemplateShape(g),
        ProtectedFromScaleIn: false
      }))
    : undefined,
  CreatedTime: new Date(g.createdAt),
  SuspendedProcesses: [...g.suspended].map(([ProcessName, SuspensionReason]) => ({ ProcessName, SuspensionReason })),
  VPCZoneIdentifier: 'subnet-0a1b2c3d4e5f60001,subnet-0a1b2c3d4e5f60002',
  EnabledMetrics: [],
  Tags: [...g.tags].map(([Key, Value]) => ({
    ResourceId: g.name,
    ResourceType: 'auto-scaling-group',
    Key,
    Value,
    PropagateAtLaunch: true
  })),
  TerminationPolicies: ['Default'],
  NewInstancesProtectedFromScaleIn: false,
  ServiceLinkedRoleARN: `arn:aws:iam::${g.arn.split(':')[4]}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
  CapacityRebalance: false,
  TrafficSources: g.trafficSources.map((s) => ({ Identifier: s.identifier, Type: s.type }))
})

/** Filters of DescribeAutoScalingGroups: tag-key, tag-value and tag:<key>, as AWS documents them. */
function groupFilters(params: QueryParams): Array<(g: AutoScalingGroup) => boolean> {
  return asList(params.Filters).map((raw) => {
    const f = asObj(raw) ?? {}
    const name = required(V, asStr(f.Name), 'Name')
    const values = strings(f.Values)
    if (name === 'tag-key') return (g) => values.some((v) => g.tags.has(v))
    if (name === 'tag-value') return (g) => values.some((v) => [...g.tags.values()].includes(v))
    if (name.startsWith('tag:')) {
      const key = name.slice(4)
      return (g) => g.tags.has(key) && values.includes(g.tags.get(key) as string)
    }
    throw new ApiError(V, `Filter name ${name} is not valid; use tag-key, tag-value or tag:<key>`)
  })
}

const describeAutoScalingGroups: Handler<QueryParams> = (params, { world }) => {
  const names = strings(params.AutoScalingGroupNames)
  const maxRecords = asInt(params.MaxRecords, 'MaxRecords')
  intRange(V, maxRecords, 'MaxRecords', 1, 100)
  const filters = groupFilters(params)
  // Names that match no group are left out without an error, as on AWS.
  const groups = (
    names.length > 0 ? names.map((n) => world.autoScalingGroups.get(n)) : [...world.autoScalingGroups.values()]
  )
    .filter((g): g is AutoScalingGroup => g !== undefined)
    .filter((g) => filters.every((f) => f(g)))
  const p = paginate('DescribeAutoScalingGroups', groups, asStr(params.NextToken), maxRecords ?? 50, invalidToken)
  const includeInstances = asBool(params.IncludeInstances) ?? true
  return { AutoScalingGroups: p.items.map((g) => groupShape(g, includeInstances)), NextToken: p.next }
}

const describeAutoScalingInstances: Handler<QueryParams> = (params, { world }) => {
  const ids = strings(params.InstanceIds)
  lengthRange(V, ids, 'InstanceIds', 0, 50)
  const maxRecords = asInt(params.MaxRecords, 'MaxRecords')
  intRange(V, maxRecords, 'MaxRecords', 1, 50)
  const rows: Array<{ g: AutoScalingGroup; i: GroupInstance }> = []
  for (const g of world.autoScalingGroups.values()) {
    for (const i of current(g)) if (ids.length === 0 || ids.includes(i.id)) rows.push({ g, i })
  }
  if (ids.length > 0) rows.sort((a, b) => ids.indexOf(a.i.id) - ids.indexOf(b.i.id))
  const p = paginate('DescribeAutoScalingInstances', rows, asStr(params.NextToken), maxRecords ?? 50, invalidToken)
  return {
    AutoScalingInstances: p.items.map(({ g, i }) => ({
      InstanceId: i.id,
      InstanceType: INSTANCE_TYPE,
      AutoScalingGroupName: g.name,
      AvailabilityZone: i.availabilityZone,
      LifecycleState: i.lifecycleState,
      // This call reports health in capitals, DescribeAutoScalingGroups does not (AWS does the same).
      HealthStatus: i.healthStatus.toUpperCase(),
      LaunchTemplate: launchTemplateShape(g),
      ProtectedFromScaleIn: false
    })),
    NextToken: p.next
  }
}

function startScaling(ctx: ServiceContext, group: AutoScalingGroup, desired: number): void {
  if (desired !== group.desiredCapacity) group.lastScalingAt = ctx.now()
  group.desiredCapacity = desired
}

const setDesiredCapacity: Handler<QueryParams> = (params, ctx) => {
  const group = groupOrThrow(ctx.world, asStr(params.AutoScalingGroupName))
  const desired = required(V, asInt(params.DesiredCapacity, 'DesiredCapacity'), 'DesiredCapacity')
  if (desired > group.maxSize) {
    throw new ApiError(
      V,
      `New SetDesiredCapacity value ${desired} is above max value ${group.maxSize} for the AutoScalingGroup.`
    )
  }
  if (desired < group.minSize) {
    throw new ApiError(
      V,
      `New SetDesiredCapacity value ${desired} is below min value ${group.minSize} for the AutoScalingGroup.`
    )
  }
  const inCooldown =
    group.lastScalingAt !== undefined && ctx.now() < group.lastScalingAt + group.defaultCooldownS * 1000
  if (asBool(params.HonorCooldown) && inCooldown) {
    throw new ApiError(
      'ScalingActivityInProgress',
      'Scaling activity is in progress and blocks this action: the group is in its cooldown period.'
    )
  }
  startScaling(ctx, group, desired)
  return {}
}

const updateAutoScalingGroup: Handler<QueryParams> = (params, ctx) => {
  const group = groupOrThrow(ctx.world, asStr(params.AutoScalingGroupName))
  const min = asInt(params.MinSize, 'MinSize')
  const max = asInt(params.MaxSize, 'MaxSize')
  const desired = asInt(params.DesiredCapacity, 'DesiredCapacity')
  const grace = asInt(params.HealthCheckGracePeriod, 'HealthCheckGracePeriod')
  const cooldown = asInt(params.DefaultCooldown, 'DefaultCooldown')
  const healthCheckType = asStr(params.HealthCheckType)
  for (const [value, member] of [
    [min, 'MinSize'],
    [max, 'MaxSize'],
    [desired, 'DesiredCapacity']
  ] as const) {
    intRange(V, value, member, 0, 2147483647)
  }
  if (healthCheckType !== undefined && !['EC2', 'ELB', 'VPC_LATTICE', 'EBS'].includes(healthCheckType)) {
    throw new ApiError(V, `Health check type ${healthCheckType} is not valid; use EC2, ELB, VPC_LATTICE or EBS`)
  }
  const newMin = min ?? group.minSize
  const newMax = max ?? group.maxSize
  if (newMin > newMax)
    throw new ApiError(V, `Max bound, ${newMax}, must be greater than or equal to min bound, ${newMin}`)
  let newDesired = desired ?? group.desiredCapacity
  if (desired !== undefined) {
    if (desired < newMin || desired > newMax) {
      throw new ApiError(
        V,
        `Desired capacity:${desired} must be between the specified min size:${newMin} and max size:${newMax}`
      )
    }
  } else {
    // AWS moves the desired capacity into a new [min, max] rather than refusing.
    newDesired = Math.min(newMax, Math.max(newMin, newDesired))
  }
  group.minSize = newMin
  group.maxSize = newMax
  if (grace !== undefined) group.healthCheckGracePeriodS = grace
  if (cooldown !== undefined) group.defaultCooldownS = cooldown
  if (healthCheckType === 'EC2' || healthCheckType === 'ELB') group.healthCheckType = healthCheckType
  startScaling(ctx, group, newDesired)
  return {}
}

/** ScalingProcesses, all of them when omitted (both calls treat an empty list the same way). */
function processNames(params: QueryParams): string[] {
  const names = strings(params.ScalingProcesses)
  for (const n of names) {
    if (!(SCALING_PROCESSES as readonly string[]).includes(n)) {
      throw new ApiError(V, `Process name ${n} is not valid; valid process names are ${SCALING_PROCESSES.join(', ')}`)
    }
  }
  return names.length > 0 ? names : [...SCALING_PROCESSES]
}

const suspendProcesses: Handler<QueryParams> = (params, ctx) => {
  const group = groupOrThrow(ctx.world, asStr(params.AutoScalingGroupName))
  const at = new Date(Math.floor(ctx.now() / 1000) * 1000).toISOString().replace('.000Z', 'Z')
  for (const name of processNames(params)) {
    if (!group.suspended.has(name)) group.suspended.set(name, `User suspended at ${at}`)
  }
  return {}
}

const resumeProcesses: Handler<QueryParams> = (params, ctx) => {
  const group = groupOrThrow(ctx.world, asStr(params.AutoScalingGroupName))
  for (const name of processNames(params)) group.suspended.delete(name)
  return {}
}

/** A traffic source's state, from what its target group sees of the group's instances. */
function trafficSourceState(world: World, group: AutoScalingGroup, tgArn: string): string {
  const tg = world.targetGroups.get(tgArn)
  const ids = current(group).map((i) => i.id)
  if (!tg) return 'Removed'
  if (ids.some((id) => tg.targets.get(id)?.state === 'healthy')) return 'InService'
  return ids.every((id) => tg.targets.has(id)) ? 'Added' : 'Adding'
}

const describeTrafficSources: Handler<QueryParams> = (params, { world }) => {
  const group = groupOrThrow(world, asStr(params.AutoScalingGroupName))
  const type = asStr(params.TrafficSourceType)
  const maxRecords = asInt(params.MaxRecords, 'MaxRecords')
  intRange(V, maxRecords, 'MaxRecords', 1, 50)
  const sources = [
    ...group.targetGroupArns.map((identifier) => ({ identifier, type: 'elbv2' })),
    ...group.trafficSources.filter((s) => !group.targetGroupArns.includes(s.identifier))
  ].filter((s) => type === undefined || s.type === type)
  const p = paginate('DescribeTrafficSources', sources, asStr(params.NextToken), maxRecords ?? 50, invalidToken)
  return {
    TrafficSources: p.items.map((s) => ({
      TrafficSource: s.identifier,
      Identifier: s.identifier,
      Type: s.type,
      State: s.type === 'elbv2' ? trafficSourceState(world, group, s.identifier) : 'Added'
    })),
    NextToken: p.next
  }
}

export const autoScalingOperations: Record<string, Handler<QueryParams>> = {
  DescribeAutoScalingGroups: describeAutoScalingGroups,
  DescribeAutoScalingInstances: describeAutoScalingInstances,
  SetDesiredCapacity: setDesiredCapacity,
  UpdateAutoScalingGroup: updateAutoScalingGroup,
  SuspendProcesses: suspendProcesses,
  ResumeProcesses: resumeProcesses,
  DescribeTrafficSources: describeTrafficSources
}
