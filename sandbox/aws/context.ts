// What every operation handler gets: the shared world plus the endpoint's own settings.

import type { ApiCall, CommandExecutor, World } from '../world.js'

export interface ServiceContext {
  world: World
  executor: CommandExecutor
  now(): number
  /** How long after SendCommand its invocations stay invisible (SSM's eventual consistency). */
  consistencyDelayMs(): number
  /** Tags on ELBv2 resources the world has no record for (load balancers, default rules). */
  extraTags: Map<string, Map<string, string>>
  /** The call being answered (handlers run synchronously, so there is one at a time). */
  currentCall?: ApiCall
}

export type Handler<P> = (params: P, ctx: ServiceContext) => Record<string, unknown>
