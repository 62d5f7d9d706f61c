// The contract is recorded on AWS like the fleets' other records (a tag on the target group that
// ran it), so a rollback from any later job, or a person's status, sees it.
import { removeTags, writeTags } from '../aws/elbv2.js'
import type { Contract } from '../plan/contract-guard.js'
import type { RunContext } from '../runtime/context.js'

export const CONTRACT_TAG = 'bluegreen:contract'

// Tag values allow letters, digits, spaces and _ . : / = + - @ only.
export function encodeContract(contract: Contract): string {
  const safe = (text: string) => text.replace(/[^\p{L}\p{Z}\p{N}_.:/=+\-@]/gu, '-').replace(/\s+/g, '-')
  return `state=${contract.state} at=${safe(contract.at)} deployed=${safe(contract.deployedAt)} run=${safe(contract.run)}`.slice(
    0,
    256
  )
}

export function decodeContract(value: string | undefined): Contract | undefined {
  const match = /^state=(started|done|failed) at=(\S+) deployed=(\S+) run=(.*)$/.exec(value ?? '')
  if (!match) return undefined
  return { state: match[1] as Contract['state'], at: match[2], deployedAt: match[3], run: match[4] }
}

/** Writes the contract's state on the fleet that runs it. */
export async function recordContract(
  ctx: Pick<RunContext, 'clients'>,
  fleetArn: string,
  contract: Contract
): Promise<void> {
  await writeTags(ctx.clients.elb, fleetArn, { [CONTRACT_TAG]: encodeContract(contract) })
}

/** Takes the record back: the contract command never went out, so nothing was contracted. */
export async function forgetContract(ctx: Pick<RunContext, 'clients'>, fleetArn: string): Promise<void> {
  await removeTags(ctx.clients.elb, fleetArn, [CONTRACT_TAG])
}
