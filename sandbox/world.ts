// The sandbox's shared state: what the emulated AWS APIs read and write (sandbox/aws/) and what
// the running pieces (instances, command runner, proxy, health checker, alarms in
// sandbox/fleet/, sandbox/proxy/, ...) act on. One plain in-memory model so that the API layer
// and the "physical" layer never disagree about a weight, a target's health or a command.

import { AlbMetrics } from './metrics/alb-metrics.js'

/** ELBv2 action in the shape the API returns (subset the sandbox supports). */
export interface ElbAction {
  Type: 'forward' | 'fixed-response' | 'redirect' | 'authenticate-oidc' | 'authenticate-cognito'
  Order?: number
  TargetGroupArn?: string
  ForwardConfig?: {
    TargetGroups?: Array<{ TargetGroupArn: string; Weight?: number }>
    TargetGroupStickinessConfig?: { Enabled?: boolean; DurationSeconds?: number }
  }
  FixedResponseConfig?: { StatusCode: string; ContentType?: string; MessageBody?: string }
  RedirectConfig?: Record<string, string>
  AuthenticateOidcConfig?: Record<string, unknown>
  AuthenticateCognitoConfig?: Record<string, unknown>
}

/** A listener rule condition in the shape the API returns it. */
export interface RuleCondition {
  Field: 'http-header' | 'http-request-method' | 'host-header' | 'path-pattern' | 'query-string' | 'source-ip'
  /** Legacy single value, set (as AWS does) alongside the config for host-header and path-pattern. */
  Values?: string[]
  PathPatternConfig?: { Values: string[] }
  HostHeaderConfig?: { Values: string[] }
  HttpHeaderConfig?: { HttpHeaderName: string; Values: string[] }
  HttpRequestMethodConfig?: { Values: string[] }
  QueryStringConfig?: { Values: Array<{ Key?: string; Value: string }> }
  SourceIpConfig?: { Values: string[] }
}

export interface Listener {
  arn: string
  loadBalancerArn: string
  /** Port the sandbox's reverse proxy for this listener listens on (127.0.0.1). */
  port: number
  protocol: 'HTTP' | 'HTTPS'
  defaultActions: ElbAction[]
  tags: Map<string, string>
}

export interface Rule {
  arn: string
  listenerArn: string
  priority: string // "1".."50000" or "default"
  conditions: RuleCondition[]
  actions: ElbAction[]
  tags: Map<string, string>
}

export type TargetHealthState = 'initial' | 'healthy' | 'unhealthy' | 'unused' | 'draining' | 'unavailable'

export interface TargetHealth {
  state: TargetHealthState
  reason?: string // e.g. Target.ResponseCodeMismatch, Target.Timeout, Target.FailedHealthChecks
  description?: string
}

export interface HealthCheckSettings {
  path: string
  /** Sandbox allows sub-second intervals; AWS reports whole seconds (rounded up, min 1). */
  intervalMs: number
  timeoutMs: number
  healthyThreshold: number
  unhealthyThreshold: number
  matcher: string // e.g. "200" or "200-299"
}

export interface TargetGroup {
  arn: string
  name: string
  port: number
  protocol: 'HTTP'
  vpcId: string
  targetType: 'instance' | 'ip' | 'lambda' | 'alb'
  loadBalancerArns: string[]
  healthCheck: HealthCheckSettings
  /** instance id -> current health as the health checker sees it. */
  targets: Map<string, TargetHealth>
  tags: Map<string, string>
  /** Target group attributes that differ from AWS's defaults (DescribeTargetGroupAttributes). */
  attributes?: Record<string, string>
}

/**
 * Behaviour of an instance's app, as set by what was deployed to it: `errors` answers every
 * request 500, `flaky` one in five, `slow` answers correctly but 150 ms later; all three keep
 * passing their health check, so only the traffic's own metrics can tell them from `ok`.
 */
export type AppBehaviour = 'ok' | 'unhealthy' | 'errors' | 'flaky' | 'slow'

export interface Instance {
  id: string // i-0123456789abcdef0 style (17 hex digits)
  /** Loopback port the instance's HTTP app listens on. */
  port: number
  /** The instance's own directory; commands run here. */
  dir: string
  pingStatus: 'Online' | 'ConnectionLost' | 'Inactive'
  managedBySsm: boolean
  platformType: 'Linux' | 'Windows'
}

export type InvocationStatus =
  | 'Pending'
  | 'InProgress'
  | 'Delayed'
  | 'Success'
  | 'Cancelled'
  | 'TimedOut'
  | 'Failed'
  | 'Cancelling'
  | 'Undeliverable'
  | 'Terminated'

export interface Invocation {
  instanceId: string
  status: InvocationStatus
  statusDetails: string
  responseCode: number // -1 until finished
  stdout: string
  stderr: string
  requestedAt: number
  startedAt?: number
  finishedAt?: number
}

export interface Command {
  commandId: string
  documentName: string
  parameters: Record<string, string[]>
  comment: string
  instanceIds: string[]
  maxConcurrency: string
  maxErrors: string
  timeoutSeconds?: number
  cloudWatchOutput?: { CloudWatchLogGroupName?: string; CloudWatchOutputEnabled?: boolean }
  requestedAt: number
  status: InvocationStatus
  /** SSM's StatusDetails of the whole command (e.g. Incomplete), kept by the executor. */
  statusDetails?: string
  invocations: Map<string, Invocation>
}

export interface Alarm {
  name: string
  arn: string
  type: 'MetricAlarm' | 'CompositeAlarm'
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA'
  reason: string
  updatedAt: number
  /**
   * For metric alarms the sandbox evaluates: 5xx share of the responses from this target group,
   * or of all the responses of this load balancer (an alarm on the whole load balancer).
   */
  watch?: {
    targetGroupArn?: string
    loadBalancerArn?: string
    threshold: number
    windowMs: number
    minRequests: number
  }
  /** For composite alarms: ALARM when any named alarm is in ALARM. */
  anyOf?: string[]
}

/** API-level faults the emulated endpoint injects. */
export interface ApiFaults {
  latencyMs: number
  /**
   * Extra latency for one caller's calls, by access key id (all its calls) or `<key>/<service>`
   * (e.g. `AKIA…/cloudwatch`): one run on a slow network, or one service slow for it.
   */
  callerLatencyMs?: Record<string, number>
  throttleShare: number // 0..1 of calls answered with ThrottlingException / Throttling
  dropShare: number // 0..1 of calls whose connection is destroyed without an answer
  /**
   * Calls the role may not make, as `<service>:<operation>` (e.g. `ssm:SendCommand`): answered
   * with the service's AccessDenied error, as IAM would (a policy without the permission, an
   * instance outside the policy's tag condition).
   */
  denied?: string[]
  /** How long SSM hides a new command's invocations (eventual consistency); overrides the endpoint's option. */
  consistencyDelayMs?: number
}

/** Faults in the "physical" world. */
export interface WorldFaults {
  failCommandOn: Set<string> // instance ids whose commands exit 1
  hangCommandOn: Set<string> // instance ids whose commands never finish (until cancelled/timeout)
}

export type ParameterType = 'String' | 'StringList' | 'SecureString'

/** One version of an SSM parameter as Parameter Store keeps it (the newest is the parameter). */
export interface ParameterVersion {
  version: number
  value: string
  type: ParameterType
  lastModifiedAt: number
  lastModifiedUser: string
  description?: string
  allowedPattern?: string
  /** KMS key of a SecureString (`alias/aws/ssm` unless one was given). */
  keyId?: string
  tier: 'Standard' | 'Advanced'
  dataType: string
}

/**
 * An SSM Parameter Store parameter. Lives in the world (not in the API module) so that other
 * sandbox parts, e.g. an instance's boot script, read the same value the API wrote.
 */
export interface Parameter {
  name: string
  /** Versions oldest first; Parameter Store keeps the newest 100. */
  versions: ParameterVersion[]
  tags: Map<string, string>
}

export interface ApiCall {
  at: number
  service: 'elbv2' | 'ssm' | 'cloudwatch' | 'autoscaling'
  operation: string
  /** The request parameters as received (decoded). */
  params: unknown
  /** The SDK's attempt number for this request (its amz-sdk-request header): 2 and up are retries. */
  attempt?: number
  /** When the answer was computed (after the injected latency): what it shows is the world at this time. */
  answeredAt?: number
  /** HTTP status returned; error code when failed. */
  status: number
  errorCode?: string
  /** Who called: the access key id of the request's SigV4 signature (what CloudTrail records). */
  caller?: string
  /** Order in which calls were answered (their effects applied), across all services. */
  seq?: number
  /** The caller's SDK user agent (`x-amz-user-agent`, else `user-agent`): tells the action's calls from a test's own. */
  userAgent?: string
}

export interface WeightChange {
  at: number
  routeArn: string
  weights: Record<string, number> // target group arn -> weight
  /** The call that made the change: its caller and answer order (see ApiCall). */
  caller?: string
  seq?: number
}

export interface World {
  accountId: string
  region: string
  listeners: Map<string, Listener>
  rules: Map<string, Rule>
  targetGroups: Map<string, TargetGroup>
  instances: Map<string, Instance>
  commands: Map<string, Command>
  alarms: Map<string, Alarm>
  /** SSM Parameter Store, by parameter name (names are case sensitive). */
  parameters: Map<string, Parameter>
  apiFaults: ApiFaults
  faults: WorldFaults
  /** Every API call received, in order. */
  calls: ApiCall[]
  /** Every change of a route's forward weights (written by ModifyListener/ModifyRule/CreateRule). */
  weightChanges: WeightChange[]
  /** The load balancer's CloudWatch metrics: what the proxy served, published as CloudWatch would. */
  metrics: AlbMetrics
  /** Auto Scaling groups by name (sandbox/fleet/auto-scaling.ts makes them real). */
  autoScalingGroups: Map<string, AutoScalingGroup>
}

export function emptyWorld(region = 'us-east-1', accountId = '123456789012'): World {
  return {
    accountId,
    region,
    listeners: new Map(),
    rules: new Map(),
    targetGroups: new Map(),
    instances: new Map(),
    commands: new Map(),
    alarms: new Map(),
    parameters: new Map(),
    apiFaults: { latencyMs: 0, throttleShare: 0, dropShare: 0 },
    faults: { failCommandOn: new Set(), hangCommandOn: new Set() },
    calls: [],
    weightChanges: [],
    metrics: new AlbMetrics(),
    autoScalingGroups: new Map()
  }
}

/** Forward weights of an action list: target group arn -> weight (single-group form counts as 1). */
export function forwardWeights(actions: ElbAction[]): Record<string, number> {
  const forward = actions.find((a) => a.Type === 'forward')
  if (!forward) return {}
  const groups = forward.ForwardConfig?.TargetGroups
  if (groups && groups.length > 0) {
    return Object.fromEntries(groups.map((g) => [g.TargetGroupArn, g.Weight ?? 1]))
  }
  return forward.TargetGroupArn ? { [forward.TargetGroupArn]: 1 } : {}
}

/** The current value of a Parameter Store parameter, as an instance reading it would see it. */
export function parameterValue(world: World, name: string): string | undefined {
  return world.parameters.get(name)?.versions.at(-1)?.value
}

/**
 * Runs SSM commands on instances. The emulated SSM API (sandbox/aws/) validates SendCommand,
 * stores the Command with every invocation `Pending`, then hands it here; the executor
 * (sandbox/fleet/) moves invocations through InProgress to a terminal status as the real shells
 * finish, and fills stdout/stderr/responseCode.
 */
export interface CommandExecutor {
  start(command: Command): void
  /** Cancel the named (or all unfinished) invocations: kill their shells, status `Cancelled`. */
  cancel(command: Command, instanceIds?: string[]): void
}

// ---- Auto Scaling ----------------------------------------------------------------------------

/** The processes SuspendProcesses / ResumeProcesses accept, as AWS lists them. */
export const SCALING_PROCESSES = [
  'Launch',
  'Terminate',
  'AddToLoadBalancer',
  'AlarmNotification',
  'AZRebalance',
  'HealthCheck',
  'InstanceRefresh',
  'ReplaceUnhealthy',
  'ScheduledActions'
] as const

export type ScalingProcess = (typeof SCALING_PROCESSES)[number]

/** The lifecycle states the sandbox's groups move instances through (no hooks, no warm pool). */
export type LifecycleState = 'Pending' | 'InService' | 'Terminating' | 'Terminated'

export interface GroupInstance {
  id: string
  availabilityZone: string
  lifecycleState: LifecycleState
  healthStatus: 'Healthy' | 'Unhealthy'
  launchedAt: number
  /** When it entered InService: the health check grace period counts from here. */
  inServiceAt?: number
  /** What its user data did at boot: undefined while it runs, then its exit code and output tail. */
  userData?: { exitCode: number; output: string }
}

export interface AutoScalingGroup {
  name: string
  arn: string
  minSize: number
  maxSize: number
  desiredCapacity: number
  defaultCooldownS: number
  availabilityZones: string[]
  /** Target groups attached with AttachLoadBalancerTargetGroups (TargetGroupARNs). */
  targetGroupArns: string[]
  /** Traffic sources attached with AttachTrafficSources (type elbv2: target group ARNs). */
  trafficSources: Array<{ identifier: string; type: string }>
  healthCheckType: 'EC2' | 'ELB'
  healthCheckGracePeriodS: number
  /** Suspended process -> SuspensionReason, in the order they were suspended. */
  suspended: Map<string, string>
  instances: Map<string, GroupInstance>
  /** The launch template's user data: a bash script every new instance runs at boot, in its directory. */
  userData: string
  /** The app version baked into the launch template's image: what `./restart` serves if user data installs nothing. */
  imageVersion: string
  launchTemplate: { id: string; name: string; version: string }
  tags: Map<string, string>
  createdAt: number
  /** When the last scaling activity started (HonorCooldown). */
  lastScalingAt?: number
}

/** Target groups a group registers its instances in: TargetGroupARNs and elbv2 traffic sources. */
export function groupTargetGroups(group: AutoScalingGroup): string[] {
  const fromSources = group.trafficSources.filter((s) => s.type === 'elbv2').map((s) => s.identifier)
  return [...new Set([...group.targetGroupArns, ...fromSources])]
}
