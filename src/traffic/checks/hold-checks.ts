import type { AwsClients } from '../../aws/clients.js'
import type { Config } from '../../config/inputs.js'
import { alarmsCheck } from './alarms.js'
import type { CheckLook, HoldCheck } from './check.js'
import { targetHealthCheck } from './target-health.js'

/** Every check the run's holds watch, in the order they are looked at and reported. */
export function holdChecks(config: Pick<Config, 'alarms'>, clients: AwsClients): HoldCheck[] {
  return [alarmsCheck(clients.cloudwatch, config.alarms), targetHealthCheck(clients.elb)]
}

/** The plan's promise: what each hold will watch, one line per check. */
export function describeChecks(checks: HoldCheck[]): string[] {
  return checks.flatMap((check) => check.describe)
}

/** The gates of every check, side by side: the first that fails, or undefined when all pass. */
export async function firstFailingGate(checks: HoldCheck[]): Promise<CheckLook | undefined> {
  const looks = await Promise.all(checks.flatMap((check) => (check.gate ? [check.gate()] : [])))
  return looks.find((look) => !look.ok)
}
