// When a rollback may send traffic back to the previous fleet after a contract ran. Pure.
import { targetGroupName } from '../config/arn.js'
import { DeployError } from '../config/errors.js'
import { chooseRollbackTarget, type RollbackView } from './rollback-target.js'

/** contract-commands as recorded on the fleet that ran them. */
export interface Contract {
  /** started: sent, not yet reported; done: succeeded; failed: failed or was interrupted. */
  state: 'started' | 'done' | 'failed'
  /** When the contract started (ISO 8601). */
  at: string
  /** The deploy of the fleet it belongs to (its deployed-at record), so a later deploy clears it. */
  deployedAt: string
  /** The workflow run that ran it. */
  run: string
}

/** The contract that binds a fleet now: one recorded for the deploy it runs, not an older one. */
export function currentContract(contract: Contract | undefined, record: { deployedAt?: string }): Contract | undefined {
  return contract && contract.deployedAt === (record.deployedAt ?? 'unknown') ? contract : undefined
}

/** The contract in words: "contract-commands of v2 ran at … in run …". */
export function describeContract(contract: Contract, fleet: string, version?: string): string {
  const what = `contract-commands of ${version ?? targetGroupName(fleet)} on ${targetGroupName(fleet)}`
  const how =
    contract.state === 'done'
      ? 'ran'
      : contract.state === 'failed'
        ? 'failed partway'
        : 'started and never reported an end'
  return `${what} ${how} at ${contract.at} in ${contract.run}`
}

/**
 * A rollback leaves `from` for `target`. Once `from` ran its contract, the previous release's code
 * may not work with the data any more (a column it reads is gone), so sending users back to it
 * could turn a bad release into an outage. Refused unless the user says it is safe; then a
 * warning says what was overridden.
 */
export function judgeRollbackPastContract(
  from: { arn: string; version?: string; contract?: Contract },
  target: { arn: string; version?: string },
  allowed: boolean
): { warning?: string } {
  if (!from.contract) return {}
  const contract = describeContract(from.contract, from.arn, from.version)
  const back = `${targetGroupName(target.arn)}${target.version ? ` (${target.version})` : ''}`
  if (allowed) {
    return {
      warning: `Rolling back past a contract, as allow-rollback-past-contract asks: ${contract}; ${back} may fail on the data it changed`
    }
  }
  throw new DeployError(
    `Rollback refused: ${contract}, so ${back} may no longer work with the data; deploy a fix forward instead (a new version goes to ${targetGroupName(target.arn)}), or set allow-rollback-past-contract: true if you know ${back} still works`
  )
}

/** Whether a rollback now would be safe, in one line for status. */
export function rollbackSafety(
  found: RollbackView & {
    fleets: Record<string, { record: { version?: string; deployedAt?: string }; contract?: Contract }>
  }
): { safe: boolean; line: string } {
  let choice: ReturnType<typeof chooseRollbackTarget>
  try {
    choice = chooseRollbackTarget(found)
  } catch (error) {
    return { safe: false, line: `No safe rollback target: ${(error as Error).message}` }
  }
  const target = found.fleets[choice.target]
  const from = found.fleets[choice.from]
  const back = `${targetGroupName(choice.target)}${target.record.version ? ` (${target.record.version})` : ''}`
  const contract = currentContract(from.contract, from.record)
  if (choice.target !== found.traffic.live && contract) {
    return {
      safe: false,
      line: `${back} is NOT a safe rollback target: ${describeContract(contract, choice.from, from.record.version)}; deploy a fix forward`
    }
  }
  if (choice.target === found.traffic.live) {
    return { safe: true, line: `A rollback keeps all traffic on ${back}: ${choice.why}` }
  }
  return { safe: true, line: `${back} is a safe rollback target: ${choice.why}, healthy, no contract since` }
}
