// Makes the world's Auto Scaling groups real: a controller that, like the Auto Scaling service,
// keeps each group at its desired capacity with real local instances.
//
//   launch:    a new instance (its app installed from the image but not started) is Pending for
//              `bootMs`, then InService: registered in the group's target groups (state initial,
//              unless AddToLoadBalancer is suspended), its SSM agent online, and its user data run
//              in its directory. The sandbox's user data asks Parameter Store for the version
//              recorded for the group and installs it before it starts the app, so the instance
//              fails its health checks (and takes no traffic) until it serves that version.
//   terminate: Terminating, deregistered (draining for the target group's deregistration delay,
//              capped by `drainMs`), then stopped and gone.
//   processes: Launch suspended -> no launch (scale-out, replacements); Terminate suspended -> no
//              termination (scale-in, ReplaceUnhealthy); HealthCheck suspended -> instances are not
//              marked Unhealthy; ReplaceUnhealthy suspended -> Unhealthy instances stay;
//              AddToLoadBalancer suspended -> launched instances are not registered.
//   health:    with HealthCheckType ELB, an InService instance past the grace period that a target
//              group reports `unhealthy` is marked Unhealthy, then replaced (terminate first, then
//              launch), as AWS's ReplaceUnhealthy does.
// Scale-in picks, like the default termination policy, the Availability Zone with the most
// instances, then the oldest instance there.

import { spawn, type ChildProcess } from 'node:child_process'
import { chmod, mkdir, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { targetGroupAttributes } from '../aws/elbv2-attributes.js'
import { groupTargetGroups, type AutoScalingGroup, type GroupInstance, type World } from '../world.js'
import { initialHealth } from './health-checker.js'
import { randomInstanceId, type InstanceFleet } from './instances.js'

export interface AutoScalingControllerOptions {
  /** How long a launched instance stays Pending (EC2 boot). Default 300 ms. */
  bootMs?: number
  /** Longest drain of a terminated instance; the target group's deregistration delay applies when shorter. Default 1 s. */
  drainMs?: number
  /** How often groups are reconciled. Default 50 ms. */
  tickMs?: number
  /** Environment of user data scripts: the emulated endpoint and credentials, so `aws` reaches the sandbox. */
  env?: Record<string, string>
  now?: () => number
}

/** What Auto Scaling did, in order (tests and the sandbox report read it). */
export interface ScalingActivity {
  at: number
  group: string
  instanceId: string
  action: 'launch' | 'in-service' | 'terminate' | 'terminated' | 'unhealthy' | 'user-data'
  detail?: string
}

const OUTPUT_TAIL = 2000

export class AutoScalingController {
  readonly activities: ScalingActivity[] = []
  private readonly world: World
  private readonly fleet: InstanceFleet
  private readonly bootMs: number
  private readonly drainMs: number
  private readonly tickMs: number
  private readonly env: Record<string, string>
  private readonly now: () => number
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly userData = new Map<string, ChildProcess>()
  private readonly binDir: string
  private timer?: NodeJS.Timeout
  private stopped = false
  private binReady?: Promise<void>

  constructor(world: World, fleet: InstanceFleet, opts: AutoScalingControllerOptions = {}) {
    this.world = world
    this.fleet = fleet
    this.bootMs = opts.bootMs ?? 300
    this.drainMs = opts.drainMs ?? 1000
    this.tickMs = opts.tickMs ?? 50
    this.env = opts.env ?? {}
    this.now = opts.now ?? Date.now
    this.binDir = path.join(fleet.rootDir, '.bin')
  }

  start(): void {
    if (this.timer || this.stopped) return
    this.binReady ??= writeAwsCli(this.binDir)
    this.timer = setInterval(() => this.tick(), this.tickMs)
    this.tick()
  }

  stop(): void {
    this.stopped = true
    if (this.timer) clearInterval(this.timer)
    this.timer = undefined
    for (const t of this.timers) clearTimeout(t)
    this.timers.clear()
    for (const child of this.userData.values()) killGroup(child)
    this.userData.clear()
  }

  /** Resolves once every group has its desired capacity InService, with healthy targets where attached. */
  async waitForCapacity(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      if ([...this.world.autoScalingGroups.values()].every((g) => this.atCapacity(g))) return
      if (Date.now() > deadline)
        throw new Error(`Auto Scaling groups not at their desired capacity after ${timeoutMs} ms`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  /** One reconciliation of every group. */
  tick(): void {
    if (this.stopped) return
    for (const group of this.world.autoScalingGroups.values()) this.reconcile(group)
  }

  private atCapacity(g: AutoScalingGroup): boolean {
    const live = [...g.instances.values()].filter((i) => i.lifecycleState !== 'Terminated')
    if (live.length !== g.desiredCapacity || live.some((i) => i.lifecycleState !== 'InService')) return false
    return groupTargetGroups(g).every((arn) =>
      live.every((i) => this.world.targetGroups.get(arn)?.targets.get(i.id)?.state === 'healthy')
    )
  }

  private reconcile(group: AutoScalingGroup): void {
    const suspended = (p: string): boolean => group.suspended.has(p)
    const now = this.now()
    if (group.healthCheckType === 'ELB' && !suspended('HealthCheck')) {
      for (const i of group.instances.values()) {
        if (i.lifecycleState !== 'InService' || i.healthStatus === 'Unhealthy') continue
        if (now < (i.inServiceAt ?? now) + group.healthCheckGracePeriodS * 1000) continue
        const failing = groupTargetGroups(group).some(
          (arn) => this.world.targetGroups.get(arn)?.targets.get(i.id)?.state === 'unhealthy'
        )
        if (failing) {
          i.healthStatus = 'Unhealthy'
          this.note(group, i.id, 'unhealthy', 'a target group reports it unhealthy')
        }
      }
    }
    // ReplaceUnhealthy terminates first, then the capacity check below launches the replacement.
    if (!suspended('ReplaceUnhealthy') && !suspended('Terminate')) {
      for (const i of group.instances.values()) {
        if (i.lifecycleState === 'InService' && i.healthStatus === 'Unhealthy')
          this.terminate(group, i, 'replacing an unhealthy instance')
      }
    }
    const active = [...group.instances.values()].filter(
      (i) => i.lifecycleState === 'Pending' || i.lifecycleState === 'InService'
    )
    if (active.length < group.desiredCapacity && !suspended('Launch')) {
      for (let n = active.length; n < group.desiredCapacity; n++) this.launch(group)
    } else if (active.length > group.desiredCapacity && !suspended('Terminate')) {
      for (const i of pickForScaleIn(active, active.length - group.desiredCapacity))
        this.terminate(group, i, 'scale-in')
    }
  }

  private launch(group: AutoScalingGroup): void {
    const id = randomInstanceId()
    const instance: GroupInstance = {
      id,
      availabilityZone: leastUsedZone(group),
      lifecycleState: 'Pending',
      healthStatus: 'Healthy',
      launchedAt: this.now()
    }
    group.instances.set(id, instance)
    this.note(group, id, 'launch')
    void (async () => {
      await this.binReady
      // The image has the app installed but not started: it starts once user data has run.
      const info = await this.fleet.add({ id, version: group.imageVersion, up: false, managedBySsm: false })
      if (this.stopped || instance.lifecycleState !== 'Pending') {
        await this.fleet.remove(id)
        return
      }
      this.world.instances.set(id, info)
      this.later(this.bootMs, () => this.boot(group, instance))
    })().catch((e: unknown) => {
      // A launch that fails (no free port, disk) leaves the slot for the next tick, like a failed activity.
      group.instances.delete(id)
      this.note(group, id, 'terminated', `launch failed: ${e instanceof Error ? e.message : String(e)}`)
    })
  }

  private boot(group: AutoScalingGroup, instance: GroupInstance): void {
    if (instance.lifecycleState !== 'Pending') return
    instance.lifecycleState = 'InService'
    instance.inServiceAt = this.now()
    const info = this.world.instances.get(instance.id)
    if (info) info.managedBySsm = true
    if (!group.suspended.has('AddToLoadBalancer')) {
      for (const arn of groupTargetGroups(group))
        this.world.targetGroups.get(arn)?.targets.set(instance.id, initialHealth())
    }
    this.note(group, instance.id, 'in-service')
    this.runUserData(group, instance)
  }

  private runUserData(group: AutoScalingGroup, instance: GroupInstance): void {
    const info = this.world.instances.get(instance.id)
    if (!info || !group.userData.trim()) return
    const child = spawn('bash', ['-c', group.userData], {
      cwd: info.dir,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: `${this.binDir}:${process.env.PATH ?? '/usr/bin:/bin'}`,
        HOME: info.dir,
        LANG: 'C.UTF-8',
        ...this.env,
        INSTANCE_ID: instance.id,
        INSTANCE_DIR: info.dir,
        AUTO_SCALING_GROUP_NAME: group.name
      }
    })
    this.userData.set(instance.id, child)
    let output = ''
    const collect = (d: Buffer): void => {
      output = (output + d.toString('utf8')).slice(-OUTPUT_TAIL)
    }
    child.stdout?.on('data', collect)
    child.stderr?.on('data', collect)
    const done = (code: number | null): void => {
      if (this.userData.get(instance.id) !== child) return
      this.userData.delete(instance.id)
      instance.userData = { exitCode: code ?? -1, output }
      this.note(group, instance.id, 'user-data', `exit ${code ?? 'signal'}: ${output.trim().split('\n').at(-1) ?? ''}`)
    }
    child.on('error', (e) => {
      output += e.message
      done(-1)
    })
    child.on('close', (code) => done(code))
  }

  private terminate(group: AutoScalingGroup, instance: GroupInstance, why: string): void {
    instance.lifecycleState = 'Terminating'
    this.note(group, instance.id, 'terminate', why)
    const child = this.userData.get(instance.id)
    if (child) killGroup(child)
    let drainMs = 0
    for (const arn of groupTargetGroups(group)) {
      const tg = this.world.targetGroups.get(arn)
      if (!tg?.targets.has(instance.id)) continue
      tg.targets.set(instance.id, {
        state: 'draining',
        reason: 'Target.DeregistrationInProgress',
        description: 'Target deregistration is in progress'
      })
      const delayS = Number(targetGroupAttributes(tg)['deregistration_delay.timeout_seconds'])
      drainMs = Math.max(drainMs, Math.min(this.drainMs, delayS * 1000))
    }
    this.later(drainMs, () => {
      for (const arn of groupTargetGroups(group)) this.world.targetGroups.get(arn)?.targets.delete(instance.id)
      const info = this.world.instances.get(instance.id)
      if (info) info.pingStatus = 'ConnectionLost'
      void this.fleet.remove(instance.id).finally(() => {
        this.world.instances.delete(instance.id)
        instance.lifecycleState = 'Terminated'
        group.instances.delete(instance.id)
        this.note(group, instance.id, 'terminated')
      })
    })
  }

  private later(ms: number, fn: () => void): void {
    if (this.stopped) return
    const t = setTimeout(() => {
      this.timers.delete(t)
      if (!this.stopped) fn()
    }, ms)
    this.timers.add(t)
  }

  private note(group: AutoScalingGroup, instanceId: string, action: ScalingActivity['action'], detail?: string): void {
    this.activities.push({ at: this.now(), group: group.name, instanceId, action, ...(detail ? { detail } : {}) })
  }
}

function leastUsedZone(group: AutoScalingGroup): string {
  const zones = group.availabilityZones.length > 0 ? group.availabilityZones : ['us-east-1a']
  const count = (z: string): number =>
    [...group.instances.values()].filter((i) => i.availabilityZone === z && i.lifecycleState !== 'Terminated').length
  return zones.reduce((best, z) => (count(z) < count(best) ? z : best), zones[0])
}

/** The default termination policy, simplified: the zone with the most instances, its oldest first. */
export function pickForScaleIn(active: GroupInstance[], n: number): GroupInstance[] {
  const left = [...active]
  const picked: GroupInstance[] = []
  while (picked.length < n && left.length > 0) {
    const perZone = new Map<string, number>()
    for (const i of left) perZone.set(i.availabilityZone, (perZone.get(i.availabilityZone) ?? 0) + 1)
    const busiest = Math.max(...perZone.values())
    const candidates = left
      .filter((i) => perZone.get(i.availabilityZone) === busiest)
      .sort((a, b) => a.launchedAt - b.launchedAt)
    const victim = candidates[0]
    picked.push(victim)
    left.splice(left.indexOf(victim), 1)
  }
  return picked
}

function killGroup(child: ChildProcess): void {
  try {
    if (child.pid) process.kill(-child.pid, 'SIGKILL')
  } catch {
    child.kill('SIGKILL')
  }
}

/**
 * A stand-in for the AWS CLI on the instances, enough for user data: `aws ssm <operation>` with
 * `--name`, `--names`, `--path`, `--with-decryption`, `--recursive`, `--query` (a dotted path) and
 * `--output text|json`, sent to the emulated SSM endpoint (AWS_ENDPOINT_URL) like the CLI does,
 * with the CLI's error line and exit code 254 for a service error.
 */
async function writeAwsCli(binDir: string): Promise<void> {
  await mkdir(binDir, { recursive: true })
  const script = path.join(binDir, 'aws-cli.cjs')
  await writeFile(script, AWS_CLI)
  const wrapper = path.join(binDir, 'aws')
  await writeFile(
    wrapper,
    `#!/usr/bin/env bash\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(script)} "$@"\n`
  )
  await chmod(wrapper, 0o755)
}

const AWS_CLI = String.raw`'use strict'
const args = process.argv.slice(2)
const [service, command, ...rest] = args
const usage = () => { process.stderr.write('usage: aws ssm <command> [--name NAME] [--query PATH] [--output text|json]\n'); process.exit(252) }
if (service !== 'ssm' || !command) usage()
const operation = command.split('-').map((w) => w[0].toUpperCase() + w.slice(1)).join('')
const body = {}
let query, output = 'json'
for (let i = 0; i < rest.length; i++) {
  const flag = rest[i]
  const value = () => { const v = rest[++i]; if (v === undefined) usage(); return v }
  if (flag === '--name') body.Name = value()
  else if (flag === '--names') { body.Names = []; while (rest[i + 1] && !rest[i + 1].startsWith('--')) body.Names.push(rest[++i]) }
  else if (flag === '--path') body.Path = value()
  else if (flag === '--with-decryption') body.WithDecryption = true
  else if (flag === '--recursive') body.Recursive = true
  else if (flag === '--query') query = value()
  else if (flag === '--output') output = value()
  else if (flag === '--region') value()
  else usage()
}
const endpoint = process.env.AWS_ENDPOINT_URL_SSM || process.env.AWS_ENDPOINT_URL
if (!endpoint) { process.stderr.write('aws: AWS_ENDPOINT_URL is not set\n'); process.exit(253) }
fetch(endpoint, {
  method: 'POST',
  headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.' + operation },
  body: JSON.stringify(body)
}).then(async (res) => {
  const text = await res.text()
  let data = {}
  try { data = JSON.parse(text) } catch {}
  if (!res.ok) {
    const code = String(data.__type || 'UnknownError').split('#').pop()
    process.stderr.write('\nAn error occurred (' + code + ') when calling the ' + operation + ' operation: ' + (data.message || data.Message || text) + '\n')
    process.exit(254)
  }
  let out = data
  if (query) for (const key of query.split('.')) out = out == null ? undefined : out[key]
  if (output === 'text') process.stdout.write((out == null ? 'None' : typeof out === 'object' ? JSON.stringify(out) : String(out)) + '\n')
  else process.stdout.write(JSON.stringify(out, null, 4) + '\n')
}, (e) => {
  process.stderr.write('\nCould not connect to the endpoint URL: "' + endpoint + '": ' + e.message + '\n')
  process.exit(255)
})
`
