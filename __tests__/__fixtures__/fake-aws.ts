// A small stateful stand-in for the three AWS services, on aws-sdk-client-mock, so engine tests
// can run whole deploys: weights written are weights read back, tags stick, commands finish.
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  ResumeProcessesCommand,
  SetDesiredCapacityCommand,
  SuspendProcessesCommand,
  UpdateAutoScalingGroupCommand
} from '@aws-sdk/client-auto-scaling'
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetMetricDataCommand,
  type MetricDataQuery
} from '@aws-sdk/client-cloudwatch'
import {
  AddTagsCommand,
  type Action,
  CreateRuleCommand,
  DeleteRuleCommand,
  DescribeLoadBalancersCommand,
  PriorityInUseException,
  type RuleCondition,
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTagsCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ElasticLoadBalancingV2Client,
  InvalidConfigurationRequestException,
  ListenerNotFoundException,
  OperationNotPermittedException,
  ModifyListenerCommand,
  ModifyRuleCommand,
  RemoveTagsCommand,
  RuleNotFoundException,
  TargetGroupNotFoundException
} from '@aws-sdk/client-elastic-load-balancing-v2'
import {
  CancelCommandCommand,
  DescribeInstanceInformationCommand,
  GetCommandInvocationCommand,
  ListCommandInvocationsCommand,
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient
} from '@aws-sdk/client-ssm'
import { mockClient } from 'aws-sdk-client-mock'
import type { AwsClients } from '../../src/aws/clients.js'
import type { Clock } from '../../src/runtime/clock.js'
import type { RunContext } from '../../src/runtime/context.js'
import type { Log } from '../../src/runtime/log.js'
import type { Progress } from '../../src/runtime/progress.js'
import { FakeParameterStore } from './fake-parameters.js'

export const ACCOUNT = '123456789012'
export const BLUE = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/web-blue/0123456789abcdef`
export const GREEN = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:targetgroup/web-green/fedcba9876543210`
export const LISTENER = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2`
export const LISTENER_443 = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:listener/app/web/50dc6c495c0c9188/0a1b2c3d4e5f6789`
/** Where the pair's lock lives with the default parameter-prefix. */
export const LOCK = '/bluegreen/pair/web-blue/lock'
export const RULE = `arn:aws:elasticloadbalancing:us-east-1:${ACCOUNT}:listener-rule/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee`

/** A clock whose sleeps pass instantly, honouring abort signals. */
export class FakeClock implements Clock {
  t = Date.UTC(2026, 10, 27, 12, 0, 0)
  sleeps: number[] = []
  /** Called after each sleep, with the new time: tests hook events to moments. */
  onTick: (now: number) => void = () => undefined
  now = (): number => this.t
  sleep = async (ms: number, signal?: AbortSignal): Promise<void> => {
    if (signal?.aborted) throw signal.reason
    this.sleeps.push(ms)
    this.t += Math.max(ms, 1)
    this.onTick(this.t)
    await Promise.resolve()
    if (signal?.aborted) throw signal.reason
  }
}

export interface CommandBehaviour {
  status: 'Success' | 'Failed' | 'TimedOut' | 'Cancelled' | 'Hang'
  exitCode?: number
  output?: string
  /** Time the command takes, in ms of the fake clock. */
  takesMs?: number
}

export interface Invocation {
  instanceId: string
  behaviour: CommandBehaviour
  sentAt: number
  cancelled: boolean
  /** MaxErrors of its command, as sent. */
  maxErrors?: string
}

/** An Auto Scaling group of the fake: instances launch Pending and are InService `bootMs` later. */
export interface FakeGroup {
  name: string
  targetGroupArn: string
  minSize: number
  maxSize: number
  desiredCapacity: number
  suspended: string[]
  instances: Array<{ id: string; state: 'Pending' | 'InService'; launchedAt: number }>
}

export class FakeAws {
  readonly elb = mockClient(ElasticLoadBalancingV2Client)
  readonly ssm = mockClient(SSMClient)
  readonly cloudwatch = mockClient(CloudWatchClient)
  readonly autoScaling = mockClient(AutoScalingClient)
  /** Auto Scaling groups by name; none by default (plain fleets). */
  readonly groups = new Map<string, FakeGroup>()
  /** How long a launched instance is Pending (ms of the fake clock). */
  bootMs = 20_000
  private launched = 0
  readonly listeners = new Map<string, Action[]>()
  readonly rules = new Map<string, Action[]>()
  /** A rule's listener, priority and conditions (rules the action creates, or a test sets). */
  readonly ruleMeta = new Map<string, { listenerArn: string; priority: string; conditions: RuleCondition[] }>()
  /** Protocol and port of a listener; HTTP on 80 unless a test says otherwise. */
  readonly listenerPorts = new Map<string, { protocol: string; port: number }>()
  /** What changed, in order: `send <instances>`, `write <route> <green weight>`, `create-rule`, `delete-rule`. */
  readonly events: string[] = []
  readonly tags = new Map<string, Record<string, string>>()
  readonly targets = new Map<string, string[]>()
  readonly targetType = new Map<string, string>()
  /** Groups with target-level stickiness on (attribute stickiness.enabled). */
  readonly targetStickiness = new Set<string>()
  /** Parameter Store: the pair's lock, each fleet's version and retired record. */
  readonly parameters: FakeParameterStore
  /** Health of a target; by default healthy. */
  health: (group: string, instanceId: string, now: number) => { state: string; reason?: string } = () => ({
    state: 'healthy'
  })
  /** What each instance's command does; by default succeeds at once. */
  command: (instanceId: string) => CommandBehaviour = () => ({ status: 'Success', exitCode: 0, output: 'deployed' })
  /** State of each alarm; by default OK. */
  alarm: (name: string, now: number) => string = () => 'OK'
  /** Period and evaluation periods DescribeAlarms reports for each alarm. */
  alarmTiming: (name: string) => { Period?: number; EvaluationPeriods?: number } = () => ({
    Period: 60,
    EvaluationPeriods: 1
  })
  /**
   * The traffic the load balancer serves, for its CloudWatch metrics: requests per second split
   * by the first listener's weights as they were at each moment, each group's 5xx share and
   * response time, and how long after a minute closes CloudWatch publishes it (AWS timing).
   */
  traffic = {
    rps: 20,
    errorRate: (_group: string, _at: number): number => 0,
    latencyMs: (_group: string, _at: number): number => 20,
    publishDelayMs: 120_000
  }
  /** Weights of each route as they were applied, with the time: what the traffic followed. */
  readonly weightHistory: Array<{ at: number; arn: string; weights: Record<string, number> }> = []
  readonly knownAlarms = new Set<string>()
  readonly offline = new Set<string>()
  readonly commands = new Map<string, Invocation[]>()
  /** Every weight write, in order: route ARN and the pair's weights. */
  readonly writes: Array<{ at: number; arn: string; actions: Action[] }> = []
  /** Writes that the fake accepts but does not apply (to test read-back verification). */
  ignoreWrites = 0
  /**
   * Called after each route write lands, with what was written: a test acts at that moment (a
   * cancel, a person's console edit) without re-implementing the write.
   */
  onWrite: (write: { arn: string; actions: Action[] }) => void = () => undefined
  /** Awaited after a command is registered, before SendCommand answers: a test holds a run there. */
  beforeCommandAnswer: (instanceIds: string[]) => Promise<void> | void = () => undefined
  private nextCommand = 1
  private nextRule = 1

  constructor(readonly clock: FakeClock) {
    this.parameters = new FakeParameterStore(this.ssm)
    // Unknown ARNs fail the whole call, as AWS does, with the SDK's own NotFound errors.
    this.elb.on(DescribeListenersCommand).callsFake(async (input) => {
      const shape = (a: string) => ({
        ListenerArn: a,
        LoadBalancerArn: loadBalancerOf(a),
        Protocol: this.listenerPorts.get(a)?.protocol ?? 'HTTP',
        Port: this.listenerPorts.get(a)?.port ?? 80,
        DefaultActions: clone(this.listeners.get(a))
      })
      if (input.LoadBalancerArn) {
        return {
          Listeners: [...this.listeners.keys()].filter((a) => loadBalancerOf(a) === input.LoadBalancerArn).map(shape)
        }
      }
      return { Listeners: this.known(this.listeners, input.ListenerArns as string[], notFound.listener).map(shape) }
    })
    this.elb.on(DescribeRulesCommand).callsFake(async (input) => {
      const rule = (arn: string) => ({
        RuleArn: arn,
        Priority: this.ruleMeta.get(arn)?.priority ?? '1',
        Conditions: clone(this.ruleMeta.get(arn)?.conditions ?? []),
        Actions: clone(this.rules.get(arn)),
        IsDefault: false
      })
      const defaultRule = (listener: string) => ({
        RuleArn: defaultRuleArn(listener),
        Priority: 'default',
        Conditions: [],
        Actions: clone(this.listeners.get(listener)),
        IsDefault: true
      })
      if (input.ListenerArn) {
        const listener = this.known(this.listeners, [input.ListenerArn], notFound.listener)[0]
        const rules = [...this.rules.keys()]
          .filter((arn) => (this.ruleMeta.get(arn)?.listenerArn ?? listenerOfRule(arn)) === listener)
          .map(rule)
          .sort((a, b) => Number(a.Priority) - Number(b.Priority))
        return { Rules: [...rules, defaultRule(listener)] }
      }
      const arns = input.RuleArns as string[]
      const defaults = arns.filter(
        (a) => this.listeners.has(listenerOfRule(a)) && defaultRuleArn(listenerOfRule(a)) === a
      )
      return {
        Rules: [
          ...this.known(
            this.rules,
            arns.filter((a) => !defaults.includes(a)),
            notFound.rule
          ).map(rule),
          ...defaults.map((a) => defaultRule(listenerOfRule(a)))
        ]
      }
    })
    this.elb.on(DescribeTargetGroupAttributesCommand).callsFake(async (input) => ({
      Attributes: [
        { Key: 'stickiness.enabled', Value: String(this.targetStickiness.has(input.TargetGroupArn as string)) },
        { Key: 'stickiness.type', Value: 'lb_cookie' }
      ]
    }))
    this.elb.on(CreateRuleCommand).callsFake(async (input) => {
      const listener = this.known(this.listeners, [input.ListenerArn], notFound.listener)[0]
      const taken = [...this.ruleMeta.values()].some(
        (m) => m.listenerArn === listener && m.priority === String(input.Priority)
      )
      if (taken) {
        throw new PriorityInUseException({ message: `Priority '${input.Priority}' is currently in use`, $metadata: {} })
      }
      const arn = `${listener.replace(':listener/', ':listener-rule/')}/${(this.nextRule++).toString(16).padStart(16, '0')}`
      this.rules.set(arn, clone(input.Actions))
      this.ruleMeta.set(arn, {
        listenerArn: listener,
        priority: String(input.Priority),
        conditions: clone(input.Conditions)
      })
      this.tags.set(
        arn,
        Object.fromEntries((input.Tags ?? []).map((t: { Key: string; Value: string }) => [t.Key, t.Value]))
      )
      this.events.push(`create-rule ${input.Priority}`)
      return { Rules: [{ RuleArn: arn, Priority: String(input.Priority) }] }
    })
    this.elb.on(DeleteRuleCommand).callsFake(async (input) => {
      this.known(this.rules, [input.RuleArn], notFound.rule)
      this.rules.delete(input.RuleArn)
      this.ruleMeta.delete(input.RuleArn)
      this.tags.delete(input.RuleArn)
      this.events.push('delete-rule')
      return {}
    })
    this.elb.on(DescribeLoadBalancersCommand).callsFake(async (input) => ({
      LoadBalancers: (input.LoadBalancerArns ?? []).map((arn: string) => ({
        LoadBalancerArn: arn,
        DNSName: `${/loadbalancer\/app\/([^/]+)/.exec(arn)?.[1]}-1234567890.us-east-1.elb.amazonaws.com`
      }))
    }))
    this.elb
      .on(ModifyListenerCommand)
      .callsFake(async (input) =>
        this.write(this.listeners, input.ListenerArn, input.DefaultActions, notFound.listener)
      )
    this.elb
      .on(ModifyRuleCommand)
      .callsFake(async (input) => this.write(this.rules, input.RuleArn, input.Actions, notFound.rule))
    this.elb.on(DescribeTargetGroupsCommand).callsFake(async (input) => ({
      TargetGroups: this.known(this.targets, input.TargetGroupArns as string[], notFound.targetGroup).map((arn) => ({
        TargetGroupArn: arn,
        TargetGroupName: /targetgroup\/([^/]+)/.exec(arn)?.[1],
        TargetType: this.targetType.get(arn) ?? 'instance',
        LoadBalancerArns: this.loadBalancersUsing(arn),
        HealthCheckIntervalSeconds: 10,
        HealthyThresholdCount: 3,
        UnhealthyThresholdCount: 2
      }))
    }))
    this.elb.on(DescribeTargetHealthCommand).callsFake(async (input) => {
      this.scale()
      return {
        TargetHealthDescriptions: (
          this.targets.get(this.known(this.targets, [input.TargetGroupArn], notFound.targetGroup)[0]) ?? []
        ).map((id) => {
          const h = this.health(input.TargetGroupArn, id, this.clock.now())
          return { Target: { Id: id, Port: 80 }, TargetHealth: { State: h.state, Reason: h.reason } }
        })
      }
    })
    this.elb.on(DescribeTagsCommand).callsFake(async (input) => ({
      TagDescriptions: (input.ResourceArns as string[]).map((arn) => ({
        ResourceArn: arn,
        Tags: Object.entries(this.tags.get(arn) ?? {}).map(([Key, Value]) => ({ Key, Value }))
      }))
    }))
    this.elb.on(AddTagsCommand).callsFake(async (input) => {
      for (const arn of input.ResourceArns) {
        const tags = this.tags.get(arn) ?? {}
        for (const t of input.Tags) tags[t.Key] = t.Value
        this.tags.set(arn, tags)
      }
      return {}
    })
    this.elb.on(RemoveTagsCommand).callsFake(async (input) => {
      for (const arn of input.ResourceArns) {
        const tags = this.tags.get(arn) ?? {}
        for (const k of input.TagKeys) delete tags[k]
      }
      return {}
    })
    this.ssm.on(DescribeInstanceInformationCommand).callsFake(async (input) => {
      this.scale()
      const ids = input.Filters?.[0]?.Values ?? []
      return {
        InstanceInformationList: ids.map((id: string) => ({
          InstanceId: id,
          PingStatus: this.offline.has(id) ? 'ConnectionLost' : 'Online'
        }))
      }
    })
    this.ssm.on(SendCommandCommand).callsFake(async (input) => {
      const id = `cmd-${this.nextCommand++}`
      this.events.push(`send ${(input.InstanceIds as string[]).join(',')}`)
      this.commands.set(
        id,
        (input.InstanceIds as string[]).map((instanceId) => ({
          instanceId,
          behaviour: this.command(instanceId),
          sentAt: this.clock.now(),
          cancelled: false,
          maxErrors: input.MaxErrors
        }))
      )
      await this.beforeCommandAnswer(input.InstanceIds as string[])
      return { Command: { CommandId: id, RequestedDateTime: new Date(this.clock.now()) } }
    })
    // Status and counts rolled up from the invocations, as SSM's ListCommands reports them.
    this.ssm.on(ListCommandsCommand).callsFake(async (input) => {
      const inWindow = (at: number) =>
        (input.Filters ?? []).every((f: { key: string; value: string }) =>
          f.key === 'InvokedAfter'
            ? at >= Date.parse(f.value)
            : f.key === 'InvokedBefore'
              ? at <= Date.parse(f.value)
              : true
        )
      const ids = input.CommandId ? [input.CommandId] : [...this.commands.keys()].reverse()
      return {
        Commands: ids
          .filter((id) => this.commands.has(id) && inWindow(this.commands.get(id)![0]?.sentAt ?? 0))
          .map((id) => this.commandSummary(id))
      }
    })
    this.ssm.on(ListCommandInvocationsCommand).callsFake(async (input) => {
      const invocations = this.commands.get(input.CommandId) ?? []
      const start = Number(input.NextToken ?? 0)
      const page = invocations.slice(start, start + (input.MaxResults ?? 50))
      return {
        CommandInvocations: page.map((inv) => ({
          InstanceId: inv.instanceId,
          Status: this.statusOf(inv),
          StatusDetails: this.statusOf(inv)
        })),
        NextToken: start + page.length < invocations.length ? String(start + page.length) : undefined
      }
    })
    this.ssm.on(GetCommandInvocationCommand).callsFake(async (input) => {
      const inv = (this.commands.get(input.CommandId) ?? []).find((i) => i.instanceId === input.InstanceId)
      return {
        Status: inv ? this.statusOf(inv) : 'Pending',
        ResponseCode: inv?.behaviour.exitCode ?? -1,
        StandardOutputContent: inv?.behaviour.output ?? ''
      }
    })
    this.ssm.on(CancelCommandCommand).callsFake(async (input) => {
      for (const inv of this.commands.get(input.CommandId) ?? []) inv.cancelled = true
      return {}
    })
    this.autoScaling.on(DescribeAutoScalingInstancesCommand).callsFake(async (input) => {
      this.scale()
      const ids = (input.InstanceIds ?? []) as string[]
      return {
        AutoScalingInstances: [...this.groups.values()].flatMap((g) =>
          g.instances
            .filter((i) => ids.includes(i.id))
            .map((i) => ({
              InstanceId: i.id,
              AutoScalingGroupName: g.name,
              LifecycleState: i.state,
              HealthStatus: 'HEALTHY'
            }))
        )
      }
    })
    this.autoScaling.on(DescribeAutoScalingGroupsCommand).callsFake(async (input) => {
      this.scale()
      const names = input.AutoScalingGroupNames as string[] | undefined
      return {
        AutoScalingGroups: [...this.groups.values()]
          .filter((g) => !names || names.includes(g.name))
          .map((g) => ({
            AutoScalingGroupName: g.name,
            MinSize: g.minSize,
            MaxSize: g.maxSize,
            DesiredCapacity: g.desiredCapacity,
            TargetGroupARNs: [g.targetGroupArn],
            Instances: g.instances.map((i) => ({ InstanceId: i.id, LifecycleState: i.state, HealthStatus: 'Healthy' })),
            SuspendedProcesses: g.suspended.map((ProcessName) => ({ ProcessName }))
          }))
      }
    })
    this.autoScaling.on(SetDesiredCapacityCommand).callsFake(async (input) => {
      this.group(input.AutoScalingGroupName).desiredCapacity = input.DesiredCapacity
      return {}
    })
    this.autoScaling.on(UpdateAutoScalingGroupCommand).callsFake(async (input) => {
      const g = this.group(input.AutoScalingGroupName)
      g.minSize = input.MinSize ?? g.minSize
      g.desiredCapacity = input.DesiredCapacity ?? g.desiredCapacity
      return {}
    })
    this.autoScaling.on(SuspendProcessesCommand).callsFake(async (input) => {
      const g = this.group(input.AutoScalingGroupName)
      for (const p of input.ScalingProcesses ?? []) if (!g.suspended.includes(p)) g.suspended.push(p)
      return {}
    })
    this.autoScaling.on(ResumeProcessesCommand).callsFake(async (input) => {
      const g = this.group(input.AutoScalingGroupName)
      g.suspended = g.suspended.filter((p) => !(input.ScalingProcesses ?? []).includes(p))
      return {}
    })
    this.cloudwatch.on(DescribeAlarmsCommand).callsFake(async (input) => ({
      MetricAlarms: (input.AlarmNames as string[])
        .filter((n) => this.knownAlarms.has(n))
        .map((n) => ({
          AlarmName: n,
          StateValue: this.alarm(n, this.clock.now()),
          StateReason: `Threshold Crossed for ${n}`,
          ...this.alarmTiming(n)
        }))
    }))
    this.cloudwatch.on(GetMetricDataCommand).callsFake(async (input) => ({
      MetricDataResults: (input.MetricDataQueries as MetricDataQuery[]).map((q) =>
        this.metricData(q, (input.StartTime as Date).getTime(), (input.EndTime as Date).getTime())
      )
    }))
  }

  /**
   * One query's datapoints from the traffic model, by ALB's rules: per target group (or the whole
   * load balancer without a TargetGroup dimension), a datapoint per period with requests in it,
   * counts only when nonzero, minutes published `publishDelayMs` after they close.
   */
  private metricData(q: MetricDataQuery, start: number, end: number) {
    const stat = q.MetricStat
    const name = stat?.Metric?.MetricName ?? ''
    const tg = stat?.Metric?.Dimensions?.find((d) => d.Name === 'TargetGroup')?.Value
    const groups = tg ? [BLUE, GREEN].filter((g) => g.endsWith(tg)) : [BLUE, GREEN]
    const period = (stat?.Period ?? 60) * 1000
    const now = this.clock.now()
    const first = Math.floor(start / 60_000) * 60_000
    const timestamps: Date[] = []
    const values: number[] = []
    for (let bucket = first; bucket < end; bucket += period) {
      let requests = 0
      let errors = 0
      let latencySum = 0
      let latencyMax = 0
      for (let minute = bucket; minute < Math.min(bucket + period, end); minute += 60_000) {
        if (minute + 60_000 + this.traffic.publishDelayMs > now) continue
        for (const g of groups) {
          const m = this.minuteOf(g, minute)
          requests += m.requests
          errors += m.errors
          latencySum += m.latencySum
          latencyMax = Math.max(latencyMax, m.latencyMax)
        }
      }
      const n = Math.round(requests)
      if (n === 0) continue
      const value =
        name === 'RequestCount'
          ? n
          : name === 'HTTPCode_Target_5XX_Count'
            ? Math.round(errors)
            : name === 'TargetResponseTime'
              ? (stat?.Stat === 'Average' ? latencySum / requests : latencyMax) / 1000
              : 0
      if (value === 0) continue
      timestamps.push(new Date(bucket))
      values.push(value)
    }
    return { Id: q.Id, Label: name, Timestamps: timestamps, Values: values, StatusCode: 'Complete' as const }
  }

  private readonly minutes = new Map<
    string,
    { requests: number; errors: number; latencySum: number; latencyMax: number }
  >()

  /** A closed minute of a group's traffic, second by second (kept: the past does not change). */
  private minuteOf(group: string, minute: number) {
    const key = `${group}@${minute}`
    let m = this.minutes.get(key)
    if (m) return m
    m = { requests: 0, errors: 0, latencySum: 0, latencyMax: 0 }
    for (let t = minute; t < minute + 60_000; t += 1000) {
      const r = this.traffic.rps * this.shareAt(group, t)
      if (r <= 0) continue
      m.requests += r
      m.errors += r * this.traffic.errorRate(group, t)
      m.latencySum += r * this.traffic.latencyMs(group, t)
      m.latencyMax = Math.max(m.latencyMax, this.traffic.latencyMs(group, t))
    }
    this.minutes.set(key, m)
    return m
  }

  /** The group's share of the first route's traffic at time t. */
  private shareAt(group: string, t: number): number {
    const route = this.weightHistory[0]?.arn
    let weights: Record<string, number> | undefined
    for (const h of this.weightHistory) if (h.arn === route && h.at <= t) weights = h.weights
    if (!weights) return 0
    const total = Object.values(weights).reduce((a, b) => a + b, 0)
    return total > 0 ? (weights[group] ?? 0) / total : 0
  }

  /** A listener forwarding to blue and green with these weights (ForwardConfig form). */
  addListener(arn: string, blue: number, green: number, extra: Action[] = []): void {
    this.weightHistory.push({ at: 0, arn, weights: { [BLUE]: blue, [GREEN]: green } })
    this.listeners.set(arn, [
      ...extra,
      {
        Type: 'forward',
        Order: extra.length + 1,
        ForwardConfig: {
          TargetGroups: [
            { TargetGroupArn: BLUE, Weight: blue },
            { TargetGroupArn: GREEN, Weight: green }
          ]
        }
      }
    ])
  }

  /** An Auto Scaling group attached to the target group, with `desired` instances InService and registered. */
  addGroup(name: string, targetGroupArn: string, desired: number, over: Partial<FakeGroup> = {}): FakeGroup {
    const group: FakeGroup = {
      name,
      targetGroupArn,
      minSize: 0,
      maxSize: 10,
      desiredCapacity: desired,
      suspended: [],
      instances: [],
      ...over
    }
    group.instances = (this.targets.get(targetGroupArn) ?? []).map((id) => ({ id, state: 'InService', launchedAt: 0 }))
    this.groups.set(name, group)
    this.scale()
    return group
  }

  /**
   * The Auto Scaling service, run on demand: launches up to the desired capacity (unless Launch is
   * suspended), InService and registered `bootMs` later; terminates down to it (unless Terminate is).
   */
  scale(): void {
    const now = this.clock.now()
    for (const g of this.groups.values()) {
      for (const i of g.instances) {
        if (i.state === 'Pending' && now - i.launchedAt >= this.bootMs) {
          i.state = 'InService'
          this.targets.set(g.targetGroupArn, [...(this.targets.get(g.targetGroupArn) ?? []), i.id])
        }
      }
      if (g.instances.length < g.desiredCapacity && !g.suspended.includes('Launch')) {
        while (g.instances.length < g.desiredCapacity) {
          const id = `i-${String(++this.launched).padStart(17, 'c')}`
          g.instances.push({ id, state: 'Pending', launchedAt: now })
        }
      }
      if (g.instances.length > g.desiredCapacity && !g.suspended.includes('Terminate')) {
        const gone = g.instances.splice(0, g.instances.length - g.desiredCapacity).map((i) => i.id)
        this.targets.set(
          g.targetGroupArn,
          (this.targets.get(g.targetGroupArn) ?? []).filter((id) => !gone.includes(id))
        )
      }
    }
  }

  fleet(group: string, count: number, prefix: string): string[] {
    const ids = Array.from({ length: count }, (_, i) => `i-${prefix}${String(i).padStart(16 - prefix.length, '0')}`)
    this.targets.set(group, ids)
    return ids
  }

  /** The pair's weights on a route now. */
  weights(arn: string): Record<string, number> {
    const actions = this.listeners.get(arn) ?? this.rules.get(arn) ?? []
    const forward = actions.find((a) => a.Type === 'forward')
    return Object.fromEntries(
      (forward?.ForwardConfig?.TargetGroups ?? []).map((g) => [g.TargetGroupArn as string, g.Weight ?? 1])
    )
  }

  /** Percent on green at each weight write, in order. */
  greenHistory(arn = LISTENER): number[] {
    return this.writes
      .filter((w) => w.arn === arn)
      .map(
        (w) =>
          w.actions
            .find((a) => a.Type === 'forward')
            ?.ForwardConfig?.TargetGroups?.find((g) => g.TargetGroupArn === GREEN)?.Weight ?? 0
      )
  }

  mutatingCalls(): string[] {
    const names = [
      ...this.elb.calls().map((c) => c.args[0].constructor.name),
      ...this.ssm.calls().map((c) => c.args[0].constructor.name),
      ...this.autoScaling.calls().map((c) => c.args[0].constructor.name)
    ]
    return names.filter((n) =>
      /^(Modify|AddTags|RemoveTags|SendCommand|CancelCommand|Register|Deregister|CreateRule|DeleteRule|SetDesired|UpdateAuto|Suspend|Resume|PutParameter|DeleteParameter)/.test(
        n
      )
    )
  }

  /** Names of the Auto Scaling calls made, in order. */
  autoScalingCalls(): string[] {
    return this.autoScaling.calls().map((c) => c.args[0].constructor.name.replace(/Command$/, ''))
  }

  reset(): void {
    this.elb.restore()
    this.ssm.restore()
    this.cloudwatch.restore()
    this.autoScaling.restore()
  }

  private group(name: string): FakeGroup {
    const g = this.groups.get(name)
    if (!g) throw Object.assign(new Error(`AutoScalingGroup name not found - ${name}`), { name: 'ValidationError' })
    return g
  }

  private commandSummary(id: string) {
    const invocations = this.commands.get(id) ?? []
    const statuses = invocations.map((inv) => this.statusOf(inv))
    const final = (s: string) => !['Pending', 'InProgress'].includes(s)
    const errors = statuses.filter((s) => s === 'Failed' || s === 'TimedOut').length
    const completed = statuses.filter(final).length
    const maxErrors = invocations[0]?.maxErrors ?? '0'
    const allowed = maxErrors.endsWith('%')
      ? Math.floor((Number(maxErrors.slice(0, -1)) * statuses.length) / 100)
      : Number(maxErrors)
    const [Status, StatusDetails] =
      completed < statuses.length
        ? ['InProgress', 'In Progress']
        : statuses.some((s) => s === 'Cancelled')
          ? ['Cancelled', 'Cancelled']
          : statuses.every((s) => s === 'Success')
            ? ['Success', 'Success']
            : errors > allowed
              ? ['Failed', 'Failed']
              : ['Failed', 'Incomplete']
    return {
      CommandId: id,
      RequestedDateTime: new Date(invocations[0]?.sentAt ?? 0),
      Status: Status as 'Success',
      StatusDetails,
      TargetCount: statuses.length,
      CompletedCount: completed,
      ErrorCount: errors,
      DeliveryTimedOutCount: 0
    }
  }

  private statusOf(inv: Invocation): string {
    if (inv.cancelled && inv.behaviour.status === 'Hang') return 'Cancelled'
    if (inv.behaviour.status === 'Hang') return 'InProgress'
    if (this.clock.now() - inv.sentAt < (inv.behaviour.takesMs ?? 0)) return 'InProgress'
    return inv.behaviour.status
  }

  private write(
    store: Map<string, Action[]>,
    arn: string,
    actions: Action[],
    missing: (arns: string[]) => Error
  ): object {
    if (store === this.rules && !this.rules.has(arn) && defaultRuleArn(listenerOfRule(arn)) === arn) {
      throw new OperationNotPermittedException({ message: 'Default rule cannot be modified', $metadata: {} })
    }
    this.known(store, [arn], missing)
    this.refuseUnstickyForward(arn, actions)
    this.writes.push({ at: this.clock.now(), arn, actions: clone(actions) })
    if (this.ignoreWrites > 0) {
      this.ignoreWrites--
      return {}
    }
    store.set(arn, clone(actions))
    this.weightHistory.push({ at: this.clock.now(), arn, weights: this.weights(arn) })
    this.events.push(`write ${arn === LISTENER ? 'listener' : arn} ${this.weights(arn)[GREEN] ?? 0}`)
    this.onWrite({ arn, actions: clone(actions) })
    return {}
  }

  /**
   * AWS's rule (ALB docs, "Sticky sessions"): a forward to several groups must keep group
   * stickiness on while one of them has target stickiness on.
   */
  private refuseUnstickyForward(arn: string, actions: Action[]): void {
    for (const action of actions) {
      const groups = action.ForwardConfig?.TargetGroups ?? []
      if (action.Type !== 'forward' || groups.length < 2) continue
      if (action.ForwardConfig?.TargetGroupStickinessConfig?.Enabled) continue
      const sticky = groups.find((g) => this.targetStickiness.has(g.TargetGroupArn ?? ''))
      if (sticky) {
        throw new InvalidConfigurationRequestException({
          message: `Target group '${sticky.TargetGroupArn}' has target stickiness enabled. You must enable group stickiness on a forward action with multiple target groups while one of them has target stickiness enabled (${arn})`,
          $metadata: {}
        })
      }
    }
  }

  private loadBalancersUsing(group: string): string[] {
    const uses = (actions: Action[] = []) =>
      actions.some(
        (a) =>
          a.Type === 'forward' &&
          (a.TargetGroupArn === group || (a.ForwardConfig?.TargetGroups ?? []).some((g) => g.TargetGroupArn === group))
      )
    const listeners = [...this.listeners].filter(([, actions]) => uses(actions)).map(([a]) => a)
    const rules = [...this.rules].filter(([, actions]) => uses(actions)).map(([a]) => listenerOfRule(a))
    return [...new Set([...listeners, ...rules].map(loadBalancerOf))]
  }

  private known<T>(store: Map<string, T>, arns: string[], missing: (arns: string[]) => Error): string[] {
    const unknown = arns.filter((arn) => !store.has(arn))
    if (unknown.length > 0) throw missing(unknown)
    return arns
  }
}

/** The load balancer of a listener ARN (`…:listener/app/web/<lb>/<listener>`). */
export function loadBalancerOf(listenerArn: string): string {
  return listenerArn.replace(':listener/', ':loadbalancer/').replace(/\/[^/]+$/, '')
}

/** The listener of a rule ARN (`…:listener-rule/app/web/<lb>/<listener>/<rule>`). */
export function listenerOfRule(ruleArn: string): string {
  return ruleArn.replace(':listener-rule/', ':listener/').replace(/\/[^/]+$/, '')
}

/** The fake's default rule of a listener: listed by DescribeRules, never modifiable by ModifyRule. */
export function defaultRuleArn(listenerArn: string): string {
  return `${listenerArn.replace(':listener/', ':listener-rule/')}/ffffffffffffffff`
}

const notFound = {
  listener: (arns: string[]) =>
    new ListenerNotFoundException({ message: `One or more listeners not found: ${arns.join(', ')}`, $metadata: {} }),
  rule: (arns: string[]) =>
    new RuleNotFoundException({ message: `One or more rules not found: ${arns.join(', ')}`, $metadata: {} }),
  targetGroup: (arns: string[]) =>
    new TargetGroupNotFoundException({
      message: `One or more target groups not found: ${arns.join(', ')}`,
      $metadata: {}
    })
}

/** The usual start: blue live on v1 (100/0), both fleets registered, alarm web-5xx known and OK. */
export function blueLive(aws: FakeAws, fleetSize: number): void {
  aws.addListener(LISTENER, 100, 0)
  aws.fleet(BLUE, fleetSize, 'b')
  aws.fleet(GREEN, fleetSize, 'a')
  aws.knownAlarms.add('web-5xx')
  aws.tags.set(BLUE, { 'bluegreen:version': 'v1', 'bluegreen:role': 'live' })
}

export class ListLog implements Log {
  lines: string[] = []
  info = (m: string) => void this.lines.push(`info: ${m}`)
  debug = (m: string) => void this.lines.push(`debug: ${m}`)
  warning = (m: string) => void this.lines.push(`warning: ${m}`)
  error = (m: string) => void this.lines.push(`error: ${m}`)
  notice = (m: string) => void this.lines.push(`notice: ${m}`)
  /** Groups opened and not yet closed: the runner's log cannot nest them, so neither may the code. */
  openGroups = 0
  group = async <T>(title: string, phase: () => Promise<T>): Promise<T> => {
    if (this.openGroups > 0) throw new Error(`log group "${title}" opened inside another group`)
    this.openGroups++
    this.lines.push(`group: ${title}`)
    try {
      return await phase()
    } finally {
      this.openGroups--
      this.lines.push('endgroup')
    }
  }
  text(): string {
    return this.lines.join('\n')
  }
}

export function context(
  clock: FakeClock,
  signal = new AbortController().signal
): RunContext & { log: ListLog; saved: Progress[] } {
  const saved: Progress[] = []
  const clients: AwsClients = {
    elb: new ElasticLoadBalancingV2Client({ region: 'us-east-1' }),
    ssm: new SSMClient({ region: 'us-east-1' }),
    cloudwatch: new CloudWatchClient({ region: 'us-east-1' }),
    autoScaling: new AutoScalingClient({ region: 'us-east-1' })
  }
  return {
    clients,
    clock,
    log: new ListLog(),
    run: {
      id: 'run-1',
      url: 'https://github.com/o/r/actions/runs/1/attempts/1',
      repository: 'o/r',
      runId: '1',
      attempt: 1
    },
    signal,
    saved,
    saveProgress: (p) => void saved.push(structuredClone(p))
  }
}

function clone<T>(value: T): T {
  return structuredClone(value)
}
