import * as core from '@actions/core'

/** Where the story of a run is told; the runner's log in production, a list in tests. */
export interface Log {
  info(message: string): void
  /** Poll-by-poll details: shown when the run is re-run with debug logging. */
  debug(message: string): void
  warning(message: string): void
  error(message: string): void
  /** The run's result, shown as an annotation on the run's page. */
  notice(message: string): void
  /**
   * A long phase (commands, health, a traffic hold) as one collapsible group of the log, so the
   * run reads as its phases; warnings and errors inside still surface as annotations. Groups do
   * not nest in the runner's log: callers open them one after another.
   */
  group<T>(title: string, phase: () => Promise<T>): Promise<T>
}

export const actionsLog: Log = {
  info: (m) => core.info(m),
  debug: (m) => core.debug(m),
  warning: (m) => core.warning(m),
  error: (m) => core.error(m),
  notice: (m) => core.notice(m),
  group: (title, phase) => core.group(title, phase)
}
