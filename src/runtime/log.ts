import * as core from '@actions/core'

/** Where the story of a run is told; the runner's log in production, a list in tests. */
export interface Log {
  info(message: string): void
  warning(message: string): void
  error(message: string): void
}

export const actionsLog: Log = {
  info: (m) => core.info(m),
  warning: (m) => core.warning(m),
  error: (m) => core.error(m)
}
