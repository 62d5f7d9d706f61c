// The rules of the run-once hooks, pure: which instance runs a hook, what it is sent, and how the
// plan describes them. Once, on one instance, because a migration run on forty instances at the
// same moment is forty migrations racing on one database.
import type { InstanceHealth } from '../aws/elbv2.js'
import { targetGroupName } from '../config/arn.js'
import type { Config } from '../config/inputs.js'

export type HookName = 'before-traffic' | 'contract'

/** The input each hook comes from, as the user wrote it. */
export const HOOK_INPUT: Record<HookName, string> = {
  'before-traffic': 'before-traffic-commands',
  contract: 'contract-commands'
}

/**
 * The instance a hook runs on: the first healthy one by id, so that a dry run names the same
 * instance the real run uses.
 */
export function chooseHookInstance(instanceIds: string[], health: InstanceHealth[] = []): string | undefined {
  const healthy = new Set(health.filter((h) => h.state === 'healthy').map((h) => h.id))
  const sorted = [...instanceIds].sort()
  return sorted.find((id) => healthy.has(id)) ?? (health.length === 0 ? sorted[0] : undefined)
}

/** The deploy's document parameters with the hook's lines as its commands. */
export function hookParameters(
  documentParameters: Record<string, string[]>,
  lines: string[]
): Record<string, string[]> {
  return { ...documentParameters, commands: lines }
}

/** What the plan promises about the hooks, one line each, in the order they run. */
export function describeHooks(
  config: Pick<Config, 'beforeTrafficCommands' | 'contractCommands' | 'operation'>,
  plan: { newFleet: string; oldFleet: string; instanceId?: string; pauses: boolean }
): string[] {
  const on = `once, on ${plan.instanceId ?? 'one instance'} of ${targetGroupName(plan.newFleet)}`
  const lines: string[] = []
  if (config.operation === 'deploy' && config.beforeTrafficCommands.length > 0) {
    lines.push(
      `before-traffic-commands (${count(config.beforeTrafficCommands)}): ${on}, after its commands and health checks, before any traffic moves; a failure moves no traffic`
    )
  }
  if (config.contractCommands.length > 0) {
    lines.push(
      plan.pauses
        ? `contract-commands: not run by this ${config.operation}, which pauses before 100%; give them to the promote that finishes it`
        : `contract-commands (${count(config.contractCommands)}): ${on}, after it took all traffic and the final hold passed; from then on rollback to ${targetGroupName(plan.oldFleet)} is refused`
    )
  }
  return lines
}

function count(lines: string[]): string {
  return `${lines.length} line${lines.length === 1 ? '' : 's'}`
}
