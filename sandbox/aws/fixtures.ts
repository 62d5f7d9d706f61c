// Builders that put realistic resources into a World, for tests and the sandbox CLI.

import type {
  Alarm,
  AutoScalingGroup,
  ElbAction,
  HealthCheckSettings,
  Instance,
  RuleCondition,
  TargetHealth,
  World
} from '../world.js'
import * as arns from './arns.js'
import { forwardTargets } from './elbv2-actions.js'

/** An ARN for a new application load balancer (the world keeps no load balancer records). */
export function newLoadBalancerArn(world: World, name = 'web'): string {
  return arns.loadBalancerArn(world, name)
}

export interface TargetGroupSpec {
  name: string
  port?: number
  vpcId?: string
  targetType?: 'instance' | 'ip' | 'lambda' | 'alb'
  healthCheck?: Partial<HealthCheckSettings>
  /** Registered targets: instance ids (state `initial`) or id -> health. */
  targets?: string[] | Record<string, TargetHealth>
  loadBalancerArns?: string[]
  tags?: Record<string, string>
  attributes?: Record<string, string>
}

export function addTargetGroup(world: World, spec: TargetGroupSpec): string {
  const arn = arns.targetGroupArn(world, spec.name)
  const targets = Array.isArray(spec.targets)
    ? new Map(spec.targets.map((id) => [id, { state: 'initial' as const, reason: 'Elb.RegistrationInProgress' }]))
    : new Map(Object.entries(spec.targets ?? {}))
  world.targetGroups.set(arn, {
    arn,
    name: spec.name,
    port: spec.port ?? 80,
    protocol: 'HTTP',
    vpcId: spec.vpcId ?? 'vpc-0a1b2c3d4e5f67890',
    targetType: spec.targetType ?? 'instance',
    loadBalancerArns: [...(spec.loadBalancerArns ?? [])],
    healthCheck: {
      path: '/health',
      intervalMs: 30_000,
      timeoutMs: 5_000,
      healthyThreshold: 5,
      unhealthyThreshold: 2,
      matcher: '200',
      ...spec.healthCheck
    },
    targets,
    tags: new Map(Object.entries(spec.tags ?? {})),
    ...(spec.attributes ? { attributes: { ...spec.attributes } } : {})
  })
  return arn
}

/** A forward action in the weighted form: target group arn -> weight. */
export function forwardAction(weights: Record<string, number>, stickySeconds?: number): ElbAction {
  return {
    Type: 'forward',
    ForwardConfig: {
      TargetGroups: Object.entries(weights).map(([TargetGroupArn, Weight]) => ({ TargetGroupArn, Weight })),
      TargetGroupStickinessConfig:
        stickySeconds === undefined ? { Enabled: false } : { Enabled: true, DurationSeconds: stickySeconds }
    }
  }
}

function associate(world: World, lbArn: string, actions: ElbAction[]): void {
  for (const arn of forwardTargets(actions)) {
    const tg = world.targetGroups.get(arn)
    if (tg && !tg.loadBalancerArns.includes(lbArn)) tg.loadBalancerArns.push(lbArn)
  }
}

export interface ListenerSpec {
  loadBalancerArn?: string
  /** Port the sandbox proxy listens on for this listener. */
  port?: number
  protocol?: 'HTTP' | 'HTTPS'
  defaultActions: ElbAction[]
  tags?: Record<string, string>
}

export function addListener(world: World, spec: ListenerSpec): string {
  const lbArn = spec.loadBalancerArn ?? newLoadBalancerArn(world)
  const arn = arns.listenerArn(lbArn)
  world.listeners.set(arn, {
    arn,
    loadBalancerArn: lbArn,
    port: spec.port ?? 80,
    protocol: spec.protocol ?? 'HTTP',
    defaultActions: spec.defaultActions,
    tags: new Map(Object.entries(spec.tags ?? {}))
  })
  associate(world, lbArn, spec.defaultActions)
  return arn
}

export interface RuleSpec {
  listenerArn: string
  priority: number
  conditions?: RuleCondition[]
  actions: ElbAction[]
  tags?: Record<string, string>
}

export function addRule(world: World, spec: RuleSpec): string {
  const listener = world.listeners.get(spec.listenerArn)
  if (!listener) throw new Error(`addRule: no listener ${spec.listenerArn}`)
  const arn = arns.ruleArn(spec.listenerArn)
  world.rules.set(arn, {
    arn,
    listenerArn: spec.listenerArn,
    priority: String(spec.priority),
    conditions: spec.conditions ?? [
      { Field: 'path-pattern', Values: ['/api/*'], PathPatternConfig: { Values: ['/api/*'] } }
    ],
    actions: spec.actions,
    tags: new Map(Object.entries(spec.tags ?? {}))
  })
  associate(world, listener.loadBalancerArn, spec.actions)
  return arn
}

export function addInstance(world: World, spec: Partial<Instance> = {}): string {
  const id = spec.id ?? arns.instanceId()
  world.instances.set(id, {
    id,
    port: spec.port ?? 0,
    dir: spec.dir ?? '',
    pingStatus: spec.pingStatus ?? 'Online',
    managedBySsm: spec.managedBySsm ?? true,
    platformType: spec.platformType ?? 'Linux'
  })
  return id
}

export interface AlarmSpec {
  name: string
  type?: Alarm['type']
  state?: Alarm['state']
  reason?: string
  watch?: Alarm['watch']
  anyOf?: string[]
}

export function addAlarm(world: World, spec: AlarmSpec): string {
  const arn = arns.alarmArn(world, spec.name)
  world.alarms.set(spec.name, {
    name: spec.name,
    arn,
    type: spec.type ?? 'MetricAlarm',
    state: spec.state ?? 'OK',
    reason: spec.reason ?? 'Threshold Crossed: no datapoints were received for 1 period',
    updatedAt: Date.now(),
    ...(spec.watch ? { watch: spec.watch } : {}),
    ...(spec.anyOf ? { anyOf: spec.anyOf } : {})
  })
  return arn
}

export interface AutoScalingGroupSpec {
  name: string
  /** Target groups it registers its instances in (TargetGroupARNs). */
  targetGroupArns?: string[]
  /** Target groups attached as elbv2 traffic sources instead. */
  trafficSources?: string[]
  minSize?: number
  maxSize?: number
  desiredCapacity?: number
  healthCheckType?: 'EC2' | 'ELB'
  healthCheckGracePeriodS?: number
  defaultCooldownS?: number
  availabilityZones?: string[]
  userData?: string
  imageVersion?: string
  /** Processes suspended by the user before the action runs. */
  suspended?: string[]
  tags?: Record<string, string>
}

/** A group as the sandbox's controller keeps it: instances appear once the controller runs. */
export function addAutoScalingGroup(world: World, spec: AutoScalingGroupSpec): AutoScalingGroup {
  const desired = spec.desiredCapacity ?? 0
  const group: AutoScalingGroup = {
    name: spec.name,
    arn: arns.autoScalingGroupArn(world, spec.name),
    minSize: spec.minSize ?? 0,
    maxSize: spec.maxSize ?? Math.max(10, desired),
    desiredCapacity: desired,
    defaultCooldownS: spec.defaultCooldownS ?? 300,
    availabilityZones: spec.availabilityZones ?? [`${world.region}a`, `${world.region}b`],
    targetGroupArns: [...(spec.targetGroupArns ?? [])],
    trafficSources: (spec.trafficSources ?? []).map((identifier) => ({ identifier, type: 'elbv2' })),
    healthCheckType: spec.healthCheckType ?? 'ELB',
    healthCheckGracePeriodS: spec.healthCheckGracePeriodS ?? 300,
    suspended: new Map((spec.suspended ?? []).map((p) => [p, 'User suspended at 2026-01-05T09:00:00Z'])),
    instances: new Map(),
    userData: spec.userData ?? '',
    imageVersion: spec.imageVersion ?? 'v1',
    launchTemplate: { id: `lt-0${arns.hex(8).slice(0, 16)}`, name: spec.name, version: '1' },
    tags: new Map(Object.entries(spec.tags ?? {})),
    createdAt: Date.now()
  }
  world.autoScalingGroups.set(spec.name, group)
  return group
}

/** A String parameter in Parameter Store, as if written with PutParameter (version 1, or the next). */
export function addParameter(world: World, name: string, value: string): void {
  const existing = world.parameters.get(name)
  const version = {
    version: (existing?.versions.at(-1)?.version ?? 0) + 1,
    value,
    type: 'String' as const,
    lastModifiedAt: Date.now(),
    lastModifiedUser: `arn:aws:iam::${world.accountId}:user/sandbox`,
    tier: 'Standard' as const,
    dataType: 'text'
  }
  if (existing) existing.versions.push(version)
  else world.parameters.set(name, { name, versions: [version], tags: new Map() })
}

export { defaultRuleArn } from './arns.js'
