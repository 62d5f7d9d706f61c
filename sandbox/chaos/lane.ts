// A lane of the chaos soak: one sandbox reused episode after episode, put back into the episode's
// start state before each one. Starting a sandbox costs little, but settling its health checks
// does; resetting in place keeps 200 episodes inside the soak's time budget.

import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import { addAlarm, addRule, forwardAction } from '../aws/fixtures.js'
import { isTerminal } from '../fleet/command-executor.js'
import { startSandbox, type Sandbox } from '../sandbox.js'
import type { AppBehaviour, Instance, Rule, World } from '../world.js'
import { forwardWeights, parameterValue } from '../world.js'
import { type Episode, MANUAL_ALARM, other } from './episode.js'

export interface Lane {
  index: number
  sb: Sandbox
  /** A rule of the listener (path /api/*) that forwards to the pair when the episode has one. */
  rule: Rule
  /** An instance registered in no group: the one that joins the new fleet mid-deploy. */
  spare: Instance
  /** Signs its calls as a person in the console would. */
  console: ElasticLoadBalancingV2Client
  consoleCaller: string
}

// The action sees whole seconds (AWS's unit), so a 1 s interval costs it nothing over a shorter one,
// and a generous probe timeout keeps a busy machine from failing health checks that should pass.
export const HEALTH_INTERVAL_MS = 1000

export async function startLane(index: number): Promise<Lane> {
  const sb = await startSandbox({
    fleetSize: 2,
    healthIntervalMs: HEALTH_INTERVAL_MS,
    healthTimeoutMs: 900,
    healthyThreshold: 2,
    unhealthyThreshold: 2,
    restartDowntimeMs: 50,
    maxShells: 8,
    alarm: { threshold: 0.2, windowMs: 2000, minRequests: 5 },
    endpoint: { seed: index + 1 }
  })
  addAlarm(sb.world, {
    name: MANUAL_ALARM,
    reason: 'Threshold Crossed: 1 datapoint [0.12] was not greater than the threshold (0.5).'
  })
  const ruleArn = addRule(sb.world, {
    listenerArn: sb.listenerArn,
    priority: 10,
    actions: [forwardAction({ [sb.blueArn]: 100, [sb.greenArn]: 0 })]
  })
  const rule = sb.world.rules.get(ruleArn) as Rule
  const spare = await sb.fleet.add({ version: 'spare' })
  sb.world.instances.set(spare.id, spare)
  const consoleCaller = 'AKIACONSOLEPERSON000'
  const console = new ElasticLoadBalancingV2Client({
    region: sb.world.region,
    endpoint: sb.endpointUrl,
    credentials: { accessKeyId: consoleCaller, secretAccessKey: 'console' },
    maxAttempts: 5
  })
  return { index, sb, rule, spare, console, consoleCaller }
}

export async function stopLane(lane: Lane): Promise<void> {
  lane.console.destroy()
  await lane.sb.stop()
}

/** Puts the lane into the episode's start state and waits until it has settled. */
export async function stage(lane: Lane, episode: Episode): Promise<void> {
  const { sb, spare } = lane
  const world = sb.world
  const start = episode.start
  for (const command of world.commands.values()) if (!isTerminal(command.status)) sb.executor.cancel(command)
  world.faults.failCommandOn.clear()
  world.faults.hangCommandOn.clear()
  Object.assign(world.apiFaults, { latencyMs: 0, throttleShare: 0, dropShare: 0 })

  const liveArn = sb.groupArn(start.live)
  const otherArn = sb.groupArn(other(start.live))
  for (const arn of [liveArn, otherArn]) {
    const tg = world.targetGroups.get(arn)
    if (!tg) throw new Error(`lane ${lane.index}: target group ${arn} is gone`)
    tg.targets.delete(spare.id)
    tg.tags.clear()
  }
  clearParameters(world)
  const stamp = new Date().toISOString()
  tag(world, liveArn, {
    'bluegreen:version': start.liveVersion,
    'bluegreen:role': 'live',
    'bluegreen:deployed-at': stamp
  })
  tag(world, otherArn, {
    'bluegreen:version': start.otherVersion,
    'bluegreen:role': start.otherRole,
    'bluegreen:deployed-at': stamp
  })

  const liveIds = [...(world.targetGroups.get(liveArn)?.targets.keys() ?? [])]
  const otherIds = [...(world.targetGroups.get(otherArn)?.targets.keys() ?? [])]
  await Promise.all([
    ...liveIds.map((id) => runs(lane, id, start.liveVersion, 'ok')),
    ...otherIds.map((id) => runs(lane, id, start.otherVersion, start.otherBehaviour)),
    // A fleet's new instance comes up on the stable release (the launch template's), not the deploy.
    runs(lane, spare.id, start.liveVersion, 'ok')
  ])

  const weights = { [liveArn]: 100 - start.canaryPercent, [otherArn]: start.canaryPercent }
  const listener = world.listeners.get(sb.listenerArn)
  if (!listener) throw new Error(`lane ${lane.index}: the listener is gone`)
  listener.defaultActions = [forwardAction(weights, start.stickySeconds)]
  if (start.withRule)
    world.rules.set(lane.rule.arn, { ...lane.rule, actions: [forwardAction(weights, start.stickySeconds)] })
  else world.rules.delete(lane.rule.arn)

  const manual = world.alarms.get(MANUAL_ALARM)
  if (manual) Object.assign(manual, { state: 'OK', updatedAt: Date.now() })
  // The 5xx alarms judge the last 2 s of responses: let the previous episode's age out.
  await until(() => [...world.alarms.values()].every((a) => a.state === 'OK'), 5000, 'alarms back to OK')
  await sb.healthChecker.waitFor([liveArn, otherArn], ['healthy'], 15_000)
}

/** Pair weights of every route that forwards to the pair now. */
export function routeWeights(lane: Lane): Record<string, Record<string, number>> {
  const { sb } = lane
  const pairOnly = (w: Record<string, number>) => ({
    [sb.blueArn]: w[sb.blueArn] ?? 0,
    [sb.greenArn]: w[sb.greenArn] ?? 0
  })
  const routes: Record<string, Record<string, number>> = {}
  const listener = sb.world.listeners.get(sb.listenerArn)
  if (listener) routes[sb.listenerArn] = pairOnly(forwardWeights(listener.defaultActions))
  const rule = sb.world.rules.get(lane.rule.arn)
  if (rule) routes[rule.arn] = pairOnly(forwardWeights(rule.actions))
  return routes
}

/** Every lock record in the world: lock tags (the action before issue 9) and lock parameters. */
export function locksIn(world: World): string[] {
  const locks: string[] = []
  for (const tg of world.targetGroups.values()) {
    const value = tg.tags.get('bluegreen:lock')
    if (value !== undefined) locks.push(`tag on ${tg.name}: ${value}`)
  }
  for (const name of world.parameters.keys()) {
    if (/\/lock$/.test(name)) locks.push(`parameter ${name}: ${parameterValue(world, name)}`)
  }
  return locks
}

/** Parameters the action keeps (the lock, records) start each episode from nothing. */
function clearParameters(world: World): void {
  for (const name of [...world.parameters.keys()]) if (name.startsWith('/bluegreen/')) world.parameters.delete(name)
}

function tag(world: World, arn: string, tags: Record<string, string>): void {
  const tg = world.targetGroups.get(arn)
  for (const [k, v] of Object.entries(tags)) tg?.tags.set(k, v)
}

/** Makes the instance run this version and behaviour, as a deploy would have left it. */
async function runs(lane: Lane, id: string, version: string, behaviour: AppBehaviour): Promise<void> {
  const instance = lane.sb.world.instances.get(id)
  if (!instance) throw new Error(`lane ${lane.index}: instance ${id} is gone`)
  await Promise.all([
    writeFile(path.join(instance.dir, 'version'), `${version}\n`),
    writeFile(path.join(instance.dir, 'behaviour'), `${behaviour}\n`)
  ])
  const app = lane.sb.fleet.app(id)
  if (!app || app.version !== version || app.behaviour !== behaviour || !app.up) {
    lane.sb.fleet.setUp(id, true)
    await lane.sb.fleet.restart(id)
  }
}

async function until(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`sandbox did not settle: ${what} after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 25))
  }
}
