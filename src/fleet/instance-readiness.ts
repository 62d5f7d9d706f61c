import type { InstanceInformation, SSMClient } from '@aws-sdk/client-ssm'
import { chunks, inGroups } from '../aws/batches.js'
import { describeInstances, IDS_PER_DESCRIBE, mayListCommands } from '../aws/ssm-commands.js'
import { boundedList, DeployError } from '../config/errors.js'

// Describe calls side by side: one after the other, 1,000 instances would wait on 20 round trips.
const DESCRIBES_AT_ONCE = 5

/**
 * Checks that every instance can receive a command now (managed by SSM and its agent online), and
 * that the run may follow the commands. Sending to an instance that is not would only fail later,
 * one invocation at a time.
 */
export async function checkInstancesReady(ssm: SSMClient, instanceIds: string[]): Promise<void> {
  const seen = new Map<string, InstanceInformation>()
  await Promise.all([
    inGroups(chunks(instanceIds, IDS_PER_DESCRIBE), DESCRIBES_AT_ONCE, async (batch) => {
      for (const info of await describeInstances(ssm, batch)) if (info.InstanceId) seen.set(info.InstanceId, info)
    }),
    // The commands are followed with ListCommands, a permission roles made for earlier versions lack.
    mayListCommands(ssm)
  ])
  const notReady = instanceIds.flatMap((id) => {
    const info = seen.get(id)
    if (!info) return [`${id} (not managed by SSM)`]
    if (info.PingStatus !== 'Online') return [`${id} (${info.PingStatus ?? 'no agent status'})`]
    return []
  })
  if (notReady.length > 0) {
    throw new DeployError(
      `${notReady.length} of ${instanceIds.length} idle instances cannot run commands: ${boundedList(notReady)}; ` +
        'start the SSM agent and give each instance a role with AmazonSSMManagedInstanceCore (and a route to the SSM endpoints), ' +
        'or deregister it from the idle target group, then run the deploy again'
    )
  }
}
