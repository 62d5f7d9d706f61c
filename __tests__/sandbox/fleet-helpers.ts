// Shared setup for the fleet / proxy / load tests: a world with real local instances.

import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { addListener, addTargetGroup, forwardAction } from '../../sandbox/aws/fixtures.js'
import { InstanceFleet, type InstanceSpec } from '../../sandbox/fleet/instances.js'
import { emptyWorld, type Command, type HealthCheckSettings, type Instance, type World } from '../../sandbox/world.js'

export interface FleetHarness {
  world: World
  fleet: InstanceFleet
  dir: string
  add(specs: InstanceSpec[]): Promise<Instance[]>
  close(): Promise<void>
}

export async function startFleet(): Promise<FleetHarness> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fleet-test-'))
  const world = emptyWorld()
  const fleet = await InstanceFleet.start({ rootDir: dir, restartDowntimeMs: 50 })
  return {
    world,
    fleet,
    dir,
    async add(specs) {
      const list = await fleet.addMany(specs)
      for (const i of list) world.instances.set(i.id, i)
      return list
    },
    async close() {
      await fleet.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

export const FAST_HEALTH: HealthCheckSettings = {
  path: '/health',
  intervalMs: 40,
  timeoutMs: 100,
  healthyThreshold: 2,
  unhealthyThreshold: 2,
  matcher: '200'
}

/** Two target groups (blue, green) on one listener with the given weights. */
export function addPair(
  world: World,
  blue: string[],
  green: string[],
  weights: [number, number] = [100, 0],
  stickySeconds?: number
): { blueArn: string; greenArn: string; listenerArn: string } {
  const blueArn = addTargetGroup(world, { name: 'web-blue', healthCheck: FAST_HEALTH, targets: blue })
  const greenArn = addTargetGroup(world, { name: 'web-green', healthCheck: FAST_HEALTH, targets: green })
  const listenerArn = addListener(world, {
    port: 0,
    defaultActions: [forwardAction({ [blueArn]: weights[0], [greenArn]: weights[1] }, stickySeconds)]
  })
  return { blueArn, greenArn, listenerArn }
}

let seq = 0
export function newCommand(
  instanceIds: string[],
  commands: string[],
  over: Partial<Command> = {},
  params: Record<string, string[]> = {}
): Command {
  const now = Date.now()
  return {
    commandId: `cmd-${++seq}`,
    documentName: 'AWS-RunShellScript',
    parameters: { commands, ...params },
    comment: '',
    instanceIds,
    maxConcurrency: '50',
    maxErrors: '0',
    requestedAt: now,
    status: 'Pending',
    invocations: new Map(
      instanceIds.map((id) => [
        id,
        {
          instanceId: id,
          status: 'Pending' as const,
          statusDetails: 'Pending',
          responseCode: -1,
          stdout: '',
          stderr: '',
          requestedAt: now
        }
      ])
    ),
    ...over
  }
}

export async function until(cond: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 10))
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}
