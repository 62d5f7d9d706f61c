// The whole local sandbox in one call: a world with two target groups (web-blue, web-green) of N
// real instances each, one listener forwarding blue 100 / green 0 (ForwardConfig form), a 5xx
// alarm per group and one on the whole load balancer; the instances, health checker, reverse
// proxy, alarm evaluator and the emulated AWS endpoint running on loopback. `stop()` stops every
// server, timer and shell it started.
// The load balancer's CloudWatch metrics are published in compressed time by default (a report a
// second, published 2 s later: see sandbox/metrics/alb-metrics.ts); the 5xx alarms evaluate the
// same published data, so they are as late as CloudWatch alarms would be.
// With `autoScaling`, each fleet is an Auto Scaling group (web-blue-asg, web-green-asg) attached
// to its target group, whose instances the group controller launches, with user data that
// installs the version Parameter Store records for the fleet.

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { startAwsEndpoint, type AwsEndpoint, type AwsEndpointOptions } from './aws/server.js'
import {
  addAlarm,
  addAutoScalingGroup,
  addListener,
  addTargetGroup,
  forwardAction,
  newLoadBalancerArn
} from './aws/fixtures.js'
import { AlarmEvaluator } from './fleet/alarm-evaluator.js'
import { AutoScalingController } from './fleet/auto-scaling.js'
import { LocalCommandExecutor } from './fleet/command-executor.js'
import { HealthChecker } from './fleet/health-checker.js'
import { InstanceFleet } from './fleet/instances.js'
import { SANDBOX_PUBLICATION, type Publication } from './metrics/alb-metrics.js'
import { LoadBalancer } from './proxy/load-balancer.js'
import { emptyWorld, type AppBehaviour, type World } from './world.js'

export interface SandboxOptions {
  /** Instances per fleet. Default 3. */
  fleetSize?: number
  /** Health check interval (sub-second allowed). Default 500 ms. */
  healthIntervalMs?: number
  healthTimeoutMs?: number
  healthyThreshold?: number
  unhealthyThreshold?: number
  /** Versions the fleets run at start. Default v1 for both. */
  blueVersion?: string
  greenVersion?: string
  blueBehaviour?: AppBehaviour
  greenBehaviour?: AppBehaviour
  /** Which group has the traffic at start. Default blue. */
  live?: 'blue' | 'green'
  /** Enables the forward action's target group stickiness for this many seconds. */
  stickySeconds?: number
  /** 5xx alarms: threshold share, window and minimum responses. Default 0.2 / 10 s / 5. */
  alarm?: { threshold?: number; windowMs?: number; minRequests?: number }
  /** How the load balancer's metrics are published. Default progressive, 1 s reports, 2 s delay. */
  metrics?: Publication
  /** Proxy port (0: free port). */
  listenerPort?: number
  /** Downtime of an app during `./restart`. Default 150 ms. */
  restartDowntimeMs?: number
  /** Most shells the command executor runs at once. Default 32. */
  maxShells?: number
  /** Options for the emulated AWS endpoint (port, consistency delay, seed). */
  endpoint?: AwsEndpointOptions
  /** Wait until every target is healthy before returning. Default true. */
  waitHealthy?: boolean
  /** Directory for the instance directories (default: a new temp dir, removed by stop()). */
  rootDir?: string
  /** Schema versions the starting version works with (e.g. `1-2`): its apps then read the shared database. */
  schemas?: string
  /** The shared database's schema version at start. Default 1. */
  databaseSchema?: number
  /** Make each fleet an Auto Scaling group instead of fixed instances. */
  autoScaling?: AutoScalingOptions
}

export interface AutoScalingOptions {
  /** Desired capacity of each fleet's group at start. Default fleetSize for both. */
  blue?: number
  green?: number
  /** MaxSize of both groups. Default max(10, the larger desired capacity). */
  maxSize?: number
  /** Pending time of a launched instance. Default 300 ms. */
  bootMs?: number
  /** HealthCheckGracePeriod of both groups (ELB health checks). Default 10 s. */
  gracePeriodS?: number
  /** Root of the parameters the user data reads (the action's parameter-prefix). Default /bluegreen. */
  parameterPrefix?: string
}

/**
 * The sandbox's user data: install the version Parameter Store records for the fleet, else keep
 * the image's build (nothing was recorded yet), then start the app. Any other failure to read the
 * parameter fails the boot, so the instance never serves a version nobody chose.
 */
export function fleetUserData(parameterName: string): string {
  return [
    `if v=$(aws ssm get-parameter --name '${parameterName}' --query Parameter.Value --output text 2>user-data.err); then`,
    '  echo "$v" > version',
    'elif ! grep -q ParameterNotFound user-data.err; then',
    '  cat user-data.err >&2; exit 1',
    'fi',
    'echo "installing $(cat version)"',
    './restart'
  ].join('\n')
}

export interface Sandbox {
  world: World
  endpointUrl: string
  proxyUrl: string
  listenerArn: string
  blueArn: string
  greenArn: string
  blueIds: string[]
  greenIds: string[]
  /** Environment for the action (AWS_ENDPOINT_URL, region, dummy credentials). */
  env: Record<string, string>
  rootDir: string
  /** The shared "database": a file holding the schema version; commands find it in $SANDBOX_DB. */
  databaseFile: string
  fleet: InstanceFleet
  executor: LocalCommandExecutor
  healthChecker: HealthChecker
  loadBalancer: LoadBalancer
  alarmEvaluator: AlarmEvaluator
  /** The Auto Scaling controller, with `autoScaling`. */
  autoScaling?: AutoScalingController
  /** Group ARN by name: 'web-blue' / 'web-green'. */
  groupArn(color: 'blue' | 'green'): string
  /** The fleet's Auto Scaling group name (with `autoScaling`): web-blue-asg / web-green-asg. */
  asgName(color: 'blue' | 'green'): string
  stop(): Promise<void>
}

type SandboxObserver = (sandbox: Sandbox) => void
const observers = new Set<SandboxObserver>()

/**
 * Calls `observer` with every sandbox started from now on (in this module instance: one test file
 * under Jest), until the returned function is called. The end-to-end tests' call recorder uses it
 * to collect the API calls the action made, for the IAM completeness test.
 */
export function observeSandboxes(observer: SandboxObserver): () => void {
  observers.add(observer)
  return () => observers.delete(observer)
}

export async function startSandbox(opts: SandboxOptions = {}): Promise<Sandbox> {
  const sandbox = await startSandboxUnobserved(opts)
  for (const observer of observers) observer(sandbox)
  return sandbox
}

async function startSandboxUnobserved(opts: SandboxOptions): Promise<Sandbox> {
  const world = emptyWorld()
  world.metrics.publication = { ...(opts.metrics ?? SANDBOX_PUBLICATION) }
  const size = opts.fleetSize ?? 3
  const ownDir = !opts.rootDir
  const rootDir = opts.rootDir ?? (await mkdtemp(path.join(os.tmpdir(), 'alb-sandbox-')))
  const stops: Array<() => Promise<void> | void> = []
  const stop = async (): Promise<void> => {
    while (stops.length > 0) {
      const s = stops.pop() as () => Promise<void> | void
      try {
        await s()
      } catch {
        /* keep stopping the rest */
      }
    }
  }
  try {
    if (ownDir) stops.push(() => rm(rootDir, { recursive: true, force: true }))
    const databaseFile = path.join(rootDir, 'database', 'schema')
    await mkdir(path.dirname(databaseFile), { recursive: true })
    await writeFile(databaseFile, `${opts.databaseSchema ?? 1}\n`)
    const fleet = await InstanceFleet.start({ rootDir, restartDowntimeMs: opts.restartDowntimeMs, databaseFile })
    stops.push(() => fleet.stop())

    const healthCheck = {
      path: '/health',
      intervalMs: opts.healthIntervalMs ?? 500,
      timeoutMs:
        opts.healthTimeoutMs ?? Math.min(2000, Math.max(100, Math.floor((opts.healthIntervalMs ?? 500) * 0.8))),
      healthyThreshold: opts.healthyThreshold ?? 2,
      unhealthyThreshold: opts.unhealthyThreshold ?? 2,
      matcher: '200'
    }
    const spec = (version: string, behaviour: AppBehaviour = 'ok') =>
      Array.from({ length: size }, () => ({ version, behaviour, schemas: opts.schemas }))
    const asg = opts.autoScaling
    // Groups launch their own instances once the endpoint is up (their user data calls it).
    const blue = asg ? [] : await fleet.addMany(spec(opts.blueVersion ?? 'v1', opts.blueBehaviour))
    const green = asg ? [] : await fleet.addMany(spec(opts.greenVersion ?? 'v1', opts.greenBehaviour))
    for (const i of [...blue, ...green]) world.instances.set(i.id, i)

    const lbArn = newLoadBalancerArn(world, 'web')
    const blueArn = addTargetGroup(world, {
      name: 'web-blue',
      healthCheck,
      targets: blue.map((i) => i.id),
      loadBalancerArns: [lbArn]
    })
    const greenArn = addTargetGroup(world, {
      name: 'web-green',
      healthCheck,
      targets: green.map((i) => i.id),
      loadBalancerArns: [lbArn]
    })
    const live = opts.live ?? 'blue'
    const listenerArn = addListener(world, {
      loadBalancerArn: lbArn,
      port: opts.listenerPort ?? 0,
      defaultActions: [
        forwardAction(
          live === 'blue' ? { [blueArn]: 100, [greenArn]: 0 } : { [blueArn]: 0, [greenArn]: 100 },
          opts.stickySeconds
        )
      ]
    })
    const alarm = { threshold: 0.2, windowMs: 10_000, minRequests: 5, ...opts.alarm }
    addAlarm(world, { name: 'web-blue-5xx', watch: { targetGroupArn: blueArn, ...alarm } })
    addAlarm(world, { name: 'web-green-5xx', watch: { targetGroupArn: greenArn, ...alarm } })
    // The alarm most teams have: on the whole load balancer, where a canary's errors are diluted.
    addAlarm(world, { name: 'web-5xx', watch: { loadBalancerArn: lbArn, ...alarm } })

    const executor = new LocalCommandExecutor(world, {
      maxShells: opts.maxShells,
      env: { SANDBOX_CONTROL_URL: fleet.controlUrl, SANDBOX_DB: databaseFile }
    })
    stops.push(() => executor.stop())
    const healthChecker = new HealthChecker(world)
    healthChecker.start()
    stops.push(() => healthChecker.stop())
    const loadBalancer = new LoadBalancer(world)
    await loadBalancer.start()
    stops.push(() => loadBalancer.stop())
    const alarmEvaluator = new AlarmEvaluator(world, world.metrics)
    alarmEvaluator.start()
    stops.push(() => alarmEvaluator.stop())
    const endpoint: AwsEndpoint = await startAwsEndpoint(world, executor, opts.endpoint)
    stops.push(() => endpoint.close())

    let autoScaling: AutoScalingController | undefined
    if (asg) {
      const prefix = (asg.parameterPrefix ?? '/bluegreen').replace(/\/+$/, '')
      const desired = { blue: asg.blue ?? size, green: asg.green ?? size }
      for (const [color, arn, version] of [
        ['blue', blueArn, opts.blueVersion],
        ['green', greenArn, opts.greenVersion]
      ] as const) {
        addAutoScalingGroup(world, {
          name: `web-${color}-asg`,
          targetGroupArns: [arn],
          desiredCapacity: desired[color],
          maxSize: asg.maxSize ?? Math.max(10, desired.blue, desired.green),
          healthCheckGracePeriodS: asg.gracePeriodS ?? 10,
          imageVersion: version ?? 'v1',
          userData: fleetUserData(`${prefix}/fleet/web-${color}/version`)
        })
      }
      autoScaling = new AutoScalingController(world, fleet, {
        bootMs: asg.bootMs,
        env: { ...awsEnv(endpoint.url, world.region), SANDBOX_CONTROL_URL: fleet.controlUrl }
      })
      autoScaling.start()
      stops.push(() => autoScaling?.stop())
      if (opts.waitHealthy ?? true) await autoScaling.waitForCapacity(30_000)
    }

    if (opts.waitHealthy ?? true) {
      const wait = Math.max(10_000, healthCheck.intervalMs * (healthCheck.healthyThreshold + 2) * 2)
      await healthChecker.waitFor([blueArn, greenArn], ['healthy', 'unhealthy'], wait)
    }

    const env = awsEnv(endpoint.url, world.region)
    const groupIds = (color: 'blue' | 'green'): string[] => [
      ...(world.autoScalingGroups.get(`web-${color}-asg`)?.instances.keys() ?? [])
    ]
    let stopped: Promise<void> | undefined
    return {
      world,
      endpointUrl: endpoint.url,
      proxyUrl: loadBalancer.url(listenerArn),
      listenerArn,
      blueArn,
      greenArn,
      blueIds: asg ? groupIds('blue') : blue.map((i) => i.id),
      greenIds: asg ? groupIds('green') : green.map((i) => i.id),
      env,
      rootDir,
      databaseFile,
      fleet,
      executor,
      healthChecker,
      loadBalancer,
      alarmEvaluator,
      autoScaling,
      groupArn: (color) => (color === 'blue' ? blueArn : greenArn),
      asgName: (color) => `web-${color}-asg`,
      stop: () => (stopped ??= stop())
    }
  } catch (e) {
    await stop()
    throw e
  }
}

/** What the SDK (and the sandbox's `aws` on instances) needs to reach the endpoint. */
function awsEnv(url: string, region: string): Record<string, string> {
  return {
    AWS_ENDPOINT_URL: url,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    AWS_EC2_METADATA_DISABLED: 'true'
  }
}
