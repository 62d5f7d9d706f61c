// Runs SSM commands for real on the local fleet: one `bash -c` per invocation, in the instance's
// directory, like the SSM agent's aws:runShellScript plugin. Honours the document's
// executionTimeout (-> TimedOut / ExecutionTimedOut), the command's MaxConcurrency and MaxErrors
// (once more than MaxErrors invocations failed, the ones not yet sent are Cancelled), delivery
// timeout (TimeoutSeconds), cancellation (kills the shell's whole process group) and the world's
// fault sets. A global cap on simultaneous shells keeps a 1,000-instance fleet manageable.

import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import path from 'node:path'
import type { Command, CommandExecutor, Invocation, InvocationStatus, World } from '../world.js'

export interface ExecutorOptions {
  /** Most shells running at once across all commands. Default 32. */
  maxShells?: number
  /** Cap on stdout / stderr kept per invocation (SSM keeps 24,000 characters). */
  outputCap?: number
  /** Default executionTimeout in seconds when the document parameters give none (SSM: 3600). */
  defaultExecutionTimeoutS?: number
  /** Extra environment for every shell (e.g. a control URL). */
  env?: Record<string, string>
  /** Called after any invocation or command status change. */
  onChange?: (command: Command, invocation?: Invocation) => void
  now?: () => number
}

const TERMINAL: ReadonlySet<InvocationStatus> = new Set([
  'Success',
  'Cancelled',
  'TimedOut',
  'Failed',
  'Undeliverable',
  'Terminated'
])

export function isTerminal(status: InvocationStatus): boolean {
  return TERMINAL.has(status)
}

interface Running {
  child: ChildProcess
  timer?: NodeJS.Timeout
  timedOut: boolean
}

interface CommandRun {
  command: Command
  queue: string[]
  running: Map<string, Running>
  concurrency: number
  maxErrors: number
  errors: number
  cancelRequested: boolean
  stopped: boolean
}

/** Resolves `"10"` or `"25%"` of `total` (percentages round up, at least 1 when total > 0). */
export function resolveConcurrency(value: string | undefined, total: number): number {
  const v = (value ?? '').trim() || '50'
  if (v.endsWith('%')) return Math.max(1, Math.ceil((Number(v.slice(0, -1)) * total) / 100))
  const n = Number(v)
  return Number.isFinite(n) && n >= 1 ? Math.floor(n) : 1
}

/** Resolves MaxErrors: `"0"`, `"3"` or `"10%"` of total (percentages round down). */
export function resolveMaxErrors(value: string | undefined, total: number): number {
  const v = (value ?? '').trim() || '0'
  if (v.endsWith('%')) return Math.floor((Number(v.slice(0, -1)) * total) / 100)
  const n = Number(v)
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : 0
}

export class LocalCommandExecutor implements CommandExecutor {
  private readonly world: World
  private readonly maxShells: number
  private readonly cap: number
  private readonly defaultTimeoutS: number
  private readonly extraEnv: Record<string, string>
  private readonly onChange?: ExecutorOptions['onChange']
  private readonly now: () => number
  private readonly runs = new Map<string, CommandRun>()
  private shells = 0
  private idleWaiters: Array<() => void> = []
  private stopped = false

  constructor(world: World, opts: ExecutorOptions = {}) {
    this.world = world
    this.maxShells = opts.maxShells ?? 32
    this.cap = opts.outputCap ?? 24_000
    this.defaultTimeoutS = opts.defaultExecutionTimeoutS ?? 3600
    this.extraEnv = opts.env ?? {}
    this.onChange = opts.onChange
    this.now = opts.now ?? Date.now
  }

  start(command: Command): void {
    if (this.runs.has(command.commandId)) return
    const total = command.instanceIds.length
    const run: CommandRun = {
      command,
      queue: [],
      running: new Map(),
      concurrency: resolveConcurrency(command.maxConcurrency, total),
      maxErrors: resolveMaxErrors(command.maxErrors, total),
      errors: 0,
      cancelRequested: false,
      stopped: false
    }
    for (const id of command.instanceIds) {
      let inv = command.invocations.get(id)
      if (!inv) {
        inv = { instanceId: id, status: 'Pending', statusDetails: 'Pending', responseCode: -1, stdout: '', stderr: '', requestedAt: command.requestedAt }
        command.invocations.set(id, inv)
      }
      if (!isTerminal(inv.status)) run.queue.push(id)
    }
    this.runs.set(command.commandId, run)
    this.aggregate(run)
    this.pump()
  }

  cancel(command: Command, instanceIds?: string[]): void {
    const run = this.runs.get(command.commandId)
    const ids = instanceIds ?? command.instanceIds
    const now = this.now()
    if (run) run.cancelRequested = true
    for (const id of ids) {
      const inv = command.invocations.get(id)
      if (!inv || isTerminal(inv.status)) continue
      inv.status = 'Cancelled'
      inv.statusDetails = 'Cancelled'
      inv.finishedAt = now
      if (run) {
        run.queue = run.queue.filter((q) => q !== id)
        const r = run.running.get(id)
        if (r) killGroup(r.child)
      }
      this.onChange?.(command, inv)
    }
    if (run) this.aggregate(run)
    else this.aggregateCommand(command, true, resolveMaxErrors(command.maxErrors, command.instanceIds.length))
  }

  /** Resolves when no shell is running and nothing is queued. */
  idle(): Promise<void> {
    if (this.busy() === 0) return Promise.resolve()
    return new Promise((r) => this.idleWaiters.push(r))
  }

  /** Shells running right now (all commands). */
  get runningShells(): number {
    return this.shells
  }

  /** Kills every shell and stops starting new ones. */
  stop(): void {
    this.stopped = true
    for (const run of this.runs.values()) {
      run.stopped = true
      for (const r of run.running.values()) killGroup(r.child)
    }
  }

  private busy(): number {
    let n = this.shells
    for (const run of this.runs.values()) n += run.queue.length
    return n
  }

  private pump(): void {
    if (this.stopped) return
    for (const run of this.runs.values()) {
      while (run.queue.length > 0 && this.shells < this.maxShells && run.running.size < run.concurrency && !run.stopped) {
        const id = run.queue.shift() as string
        this.launch(run, id)
      }
      if (this.shells >= this.maxShells) break
    }
    if (this.busy() === 0) {
      const waiters = this.idleWaiters
      this.idleWaiters = []
      for (const w of waiters) w()
    }
  }

  private launch(run: CommandRun, id: string): void {
    const { command } = run
    const inv = command.invocations.get(id) as Invocation
    const now = this.now()
    if (isTerminal(inv.status)) return
    const instance = this.world.instances.get(id)
    if (!instance || !instance.managedBySsm || instance.pingStatus !== 'Online') {
      this.finish(run, inv, 'Undeliverable', 'Undeliverable', -1)
      return
    }
    if (command.timeoutSeconds && now - command.requestedAt > command.timeoutSeconds * 1000) {
      this.finish(run, inv, 'TimedOut', 'DeliveryTimedOut', -1)
      return
    }

    inv.status = 'InProgress'
    inv.statusDetails = 'InProgress'
    inv.startedAt = now
    this.onChange?.(command, inv)

    const params = command.parameters ?? {}
    const script = this.scriptFor(command, id)
    let cwd = instance.dir
    const wd = (params.workingDirectory?.[0] ?? '').trim()
    if (wd) {
      const resolved = path.resolve(instance.dir, '.' + path.sep + wd.replace(/^\/+/, ''))
      const inside = resolved === instance.dir || resolved.startsWith(instance.dir + path.sep)
      if (!inside || !existsSync(resolved) || !statSync(resolved).isDirectory()) {
        inv.stderr = `Invalid workingDirectory ${wd}, directory doesn't exist.\nfailed to run commands: exit status 1`
        this.finish(run, inv, 'Failed', 'Failed', 1)
        return
      }
      cwd = resolved
    }
    if (script === undefined) {
      inv.stderr = `Document ${command.documentName} is not supported by the sandbox (it runs shell commands only).\nfailed to run commands: exit status 1`
      this.finish(run, inv, 'Failed', 'Failed', 1)
      return
    }

    const timeoutS = Number(params.executionTimeout?.[0] ?? '') || this.defaultTimeoutS
    const child = spawn('bash', ['-c', script], {
      cwd,
      detached: true, // own process group: cancel/timeout kill every child of the shell
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
        HOME: instance.dir,
        LANG: 'C.UTF-8',
        ...this.extraEnv,
        INSTANCE_ID: id,
        INSTANCE_PORT: String(instance.port),
        INSTANCE_DIR: instance.dir,
        AWS_SSM_INSTANCE_ID: id
      }
    })
    this.shells++
    const r: Running = { child, timedOut: false }
    run.running.set(id, r)
    r.timer = setTimeout(() => {
      r.timedOut = true
      killGroup(child)
    }, timeoutS * 1000)
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      if (inv.stdout.length < this.cap) inv.stdout = (inv.stdout + d).slice(0, this.cap)
    })
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      if (inv.stderr.length < this.cap) inv.stderr = (inv.stderr + d).slice(0, this.cap)
    })
    let done = false
    const onEnd = (code: number | null, error?: Error): void => {
      if (done) return
      done = true
      clearTimeout(r.timer)
      this.shells--
      run.running.delete(id)
      if (error) inv.stderr = (inv.stderr + `\nfailed to run commands: ${error.message}`).slice(0, this.cap)
      if (!isTerminal(inv.status)) {
        if (r.timedOut) {
          inv.stderr = appendCapped(inv.stderr, '\nfailed to run commands: command execution timed out', this.cap)
          this.finish(run, inv, 'TimedOut', 'ExecutionTimedOut', -1)
        } else if (code === 0) {
          this.finish(run, inv, 'Success', 'Success', 0)
        } else {
          const rc = code ?? 1
          inv.stderr = appendCapped(inv.stderr, `\nfailed to run commands: exit status ${rc}`, this.cap)
          this.finish(run, inv, 'Failed', 'Failed', rc)
        }
      } else {
        // cancelled meanwhile: keep Cancelled
        inv.finishedAt ??= this.now()
        this.aggregate(run)
      }
      this.pump()
    }
    const codeOf = (code: number | null, signal: NodeJS.Signals | null): number =>
      code ?? (signal ? 128 + signalNumber(signal) : 1)
    child.on('error', (e) => onEnd(null, e))
    child.on('close', (code, signal) => onEnd(codeOf(code, signal)))
    // A command that leaves a background process holding the output pipes must not hang the
    // invocation once the shell itself has exited.
    child.on('exit', (code, signal) => {
      setTimeout(() => {
        if (done) return
        child.stdout?.destroy()
        child.stderr?.destroy()
        onEnd(codeOf(code, signal))
      }, 1000).unref()
    })
  }

  /** The shell script an invocation runs, or undefined for a document the sandbox cannot run. */
  private scriptFor(command: Command, id: string): string | undefined {
    if (this.world.faults.hangCommandOn.has(id)) {
      return 'echo "sandbox fault: the command hangs on $INSTANCE_ID"; while :; do sleep 1; done'
    }
    if (this.world.faults.failCommandOn.has(id)) {
      return 'echo "sandbox fault: the command fails on $INSTANCE_ID" >&2; exit 1'
    }
    const commands = command.parameters?.commands
    if (!commands) return command.documentName === 'AWS-RunShellScript' ? '' : undefined
    return commands.join('\n')
  }

  private finish(run: CommandRun, inv: Invocation, status: InvocationStatus, details: string, code: number): void {
    inv.status = status
    inv.statusDetails = details
    inv.responseCode = code
    inv.finishedAt = this.now()
    if (status === 'Failed' || (status === 'TimedOut' && details === 'ExecutionTimedOut')) run.errors++
    this.onChange?.(run.command, inv)
    if (run.errors > run.maxErrors && run.queue.length > 0) {
      // Error threshold passed: SSM stops sending the command to more targets.
      for (const id of run.queue) {
        const q = run.command.invocations.get(id) as Invocation
        q.status = 'Cancelled'
        q.statusDetails = 'Cancelled'
        q.finishedAt = inv.finishedAt
        this.onChange?.(run.command, q)
      }
      run.queue = []
    }
    this.aggregate(run)
  }

  private aggregate(run: CommandRun): void {
    this.aggregateCommand(run.command, run.cancelRequested, run.maxErrors)
  }

  private aggregateCommand(command: Command, cancelRequested: boolean, maxErrors: number): void {
    const before = `${command.status}/${command.statusDetails ?? ''}`
    const [status, details] = commandStatus(command, cancelRequested, maxErrors)
    command.status = status
    command.statusDetails = details
    if (`${status}/${details}` !== before) this.onChange?.(command)
  }
}

/** The overall status of a command from its invocations (SSM's "Understanding command statuses"). */
export function commandStatus(command: Command, cancelRequested: boolean, maxErrors: number): [InvocationStatus, string] {
  const invs = [...command.invocations.values()]
  const count = (s: InvocationStatus, d?: string): number =>
    invs.filter((i) => i.status === s && (d === undefined || i.statusDetails === d)).length
  const unfinished = invs.filter((i) => !isTerminal(i.status)).length
  const failed = count('Failed')
  const execTimedOut = count('TimedOut', 'ExecutionTimedOut')
  const errors = failed + execTimedOut
  if (unfinished > 0) {
    if (cancelRequested) return ['Cancelling', 'Cancelling']
    return invs.some((i) => i.status !== 'Pending') ? ['InProgress', 'InProgress'] : ['Pending', 'Pending']
  }
  if (cancelRequested && count('Cancelled') > 0) return ['Cancelled', 'Cancelled']
  if (errors > maxErrors || (errors > 0 && errors === invs.length)) {
    return failed >= execTimedOut ? ['Failed', 'Failed'] : ['TimedOut', 'ExecutionTimedOut']
  }
  const delivery = count('TimedOut', 'DeliveryTimedOut')
  if (delivery > maxErrors) return ['TimedOut', 'DeliveryTimedOut']
  if (invs.length > 0 && count('Success') === invs.length) return ['Success', 'Success']
  if (count('Success') + count('Undeliverable') === invs.length && count('Success') > 0) return ['Success', 'Success']
  if (count('Undeliverable') === invs.length) return ['Failed', 'Undeliverable']
  return ['Failed', 'Incomplete']
}

function appendCapped(s: string, add: string, cap: number): string {
  if (s.length + add.length <= cap) return s + add
  return s.slice(0, Math.max(0, cap - add.length)) + add
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return
  try {
    process.kill(-child.pid, 'SIGKILL')
  } catch {
    try {
      child.kill('SIGKILL')
    } catch {
      /* already gone */
    }
  }
}

function signalNumber(signal: NodeJS.Signals): number {
  const map: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }
  return map[signal] ?? 0
}
