// Shared setup for the emulated AWS endpoint tests: a world, the endpoint, real SDK clients.

import { CloudWatchClient } from '@aws-sdk/client-cloudwatch'
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import { SSMClient } from '@aws-sdk/client-ssm'
import { startAwsEndpoint, type AwsEndpointOptions } from '../../sandbox/aws/server.js'
import { emptyWorld, type Command, type CommandExecutor, type World } from '../../sandbox/world.js'

/** Executor that either finishes every invocation at once or leaves them all Pending. */
export class FakeExecutor implements CommandExecutor {
  started: Command[] = []
  cancelled: Array<{ commandId: string; instanceIds?: string[] }> = []
  constructor(public mode: 'success' | 'pending' = 'success') {}

  start(command: Command): void {
    this.started.push(command)
    if (this.mode === 'pending') return
    const now = Date.now()
    for (const inv of command.invocations.values()) {
      inv.status = 'Success'
      inv.statusDetails = 'Success'
      inv.responseCode = 0
      inv.stdout = `ran on ${inv.instanceId}\n`
      inv.startedAt = now
      inv.finishedAt = now + 5
    }
  }

  cancel(command: Command, instanceIds?: string[]): void {
    this.cancelled.push({ commandId: command.commandId, ...(instanceIds ? { instanceIds } : {}) })
    for (const inv of command.invocations.values()) {
      if (instanceIds && !instanceIds.includes(inv.instanceId)) continue
      inv.status = 'Cancelled'
      inv.statusDetails = 'Cancelled'
    }
  }
}

export interface Harness {
  world: World
  executor: FakeExecutor
  url: string
  elb: ElasticLoadBalancingV2Client
  ssm: SSMClient
  cw: CloudWatchClient
  close(): Promise<void>
}

const credentials = { accessKeyId: 'x', secretAccessKey: 'y' }

export function clientConfig(url: string, maxAttempts = 1) {
  return { region: 'us-east-1', endpoint: url, credentials, maxAttempts }
}

export async function startHarness(
  opts: AwsEndpointOptions & { mode?: 'success' | 'pending'; maxAttempts?: number } = {}
): Promise<Harness> {
  const world = emptyWorld()
  const executor = new FakeExecutor(opts.mode)
  const endpoint = await startAwsEndpoint(world, executor, opts)
  const cfg = clientConfig(endpoint.url, opts.maxAttempts)
  const elb = new ElasticLoadBalancingV2Client(cfg)
  const ssm = new SSMClient(cfg)
  const cw = new CloudWatchClient(cfg)
  return {
    world,
    executor,
    url: endpoint.url,
    elb,
    ssm,
    cw,
    async close() {
      elb.destroy()
      ssm.destroy()
      cw.destroy()
      await endpoint.close()
    }
  }
}

/** The rejection of a promise (fails the test if it resolves). */
export async function rejection(
  p: Promise<unknown>
): Promise<Error & { $metadata?: { httpStatusCode?: number; attempts?: number } }> {
  try {
    await p
  } catch (e) {
    return e as Error
  }
  throw new Error('expected the call to fail, but it succeeded')
}
