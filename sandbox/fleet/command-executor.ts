// Runs SSM commands for real on the local fleet: one `bash -c` per invocation, in the instance's
// directory, like the SSM agent's aws:runShellScript plugin. Honours the document's
// executionTimeout (-> TimedOut / ExecutionTimedOut), the command's MaxConcurrency and MaxErrors
// (once more than MaxErrors invocations failed, the ones not yet sent are Cancelled), delivery
// timeout (TimeoutSeconds), cancellation (kills the shell's whole process group) and the world's
// fault sets. A global cap on simultaneous shells keeps a 1,000-instance fleet manageable.
//
// The shells are spawned by a small helper process (the "shell host", plain node, IPC): forking
// from the sandbox process itself blocks its event loop for ~10 ms per shell, which would stall
// the proxy and the health checks while a large fleet deploys.

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
  key: number
  timer?: NodeJS.Timeout
  timedOut: boolean
}

type HostMessage =
  | { type: 'out' | 'err'; key: number; d: string }
  | { type: 'exit'; key: number; code: number | null; signal: NodeJS.Signals | null; error?: string }

// Runs in the shell host process (plain CommonJS via `node -e`).
const SHELL_HOST = `
const { spawn } = require('child_process')
const procs = new Map()
const killGroup = (c) => { try { process.kill(-c.pid, 'SIGKILL') } catch { try { c.kill('SIGKILL') } catch {} } }
const send = (m) => { try { process.send(m) } catch {} }
process.on('message', (m) => {
  if (m.type === 'run') {
    let child
    try {
      child = spawn('bash', ['-c', m.script], { cwd: m.cwd, env: m.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    } catch (e) { send({ type: 'exit', key: m.key, code: null, signal: null, error: String((e && e.message) || e) }); return }
    procs.set(m.key, child)
    let out = 0, err = 0, done = false
    child.stdout.setEncoding('utf8').on('data', (d) => { if (out < m.cap) { out += d.length; send({ type: 'out', key: m.key, d }) } })
    child.stderr.setEncoding('utf8').on('data', (d) => { if (err < m.cap) { err += d.length; send({ type: 'err', key: m.key, d }) } })
    const end = (code, signal, error) => { if (done) return; done = true; procs.delete(m.key); send({ type: 'exit', key: m.key, code, signal, error }) }
    child.on('error', (e) => end(null, null, e.message))
    child.on('close', (c, s) => end(c, s))
    // A command leaving a background process that holds the output pipes must not hang.
    child.on('exit', (c, s) => setTimeout(() => { if (!done) { child.stdout.destroy(); child.stderr.destroy(); end(c, s) } }, 1000).unref())
  } else if (m.type === 'kill') {
    const c = procs.get(m.key)
    if (c) killGroup(c)
  }
})
process.on('disconnect', () => { for (const c of procs.values()) killGroup(c); process.exit(0) })
`

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
  private host?: ChildProcess
  private nextKey = 0
  private readonly handlers = new Map<number, (m: HostMessage) => void>()

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
        inv = {
          instanceId: id,
          status: 'Pending',
          statusDetails: 'Pending',
          responseCode: -1,
          stdout: '',
          stderr: '',
          requestedAt: command.requestedAt
        }
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
        if (r) this.kill(r)
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
      for (const r of run.running.values()) this.kill(r)
    }
    // The host kills whatever is left when its channel closes, then exits.
    this.host?.disconnect()
    this.host = undefined
  }

  private shellHost(): ChildProcess {
    if (this.host && this.host.connected) return this.host
    const host = spawn(process.execPath, ['-e', SHELL_HOST], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    host.on('message', (m: HostMessage) => this.handlers.get(m.key)?.(m))
    host.on('exit', () => {
      if (this.host === host) this.host = undefined
      // Shells of a host that died are lost: finish them as failed.
      for (const [key, h] of [...this.handlers])
        h({ type: 'exit', key, code: null, signal: null, error: 'shell host exited' })
    })
    this.host = host
    return host
  }

  private refHost(): void {
    const channel = this.host?.channel as { ref?: () => void; unref?: () => void } | undefined
    if (this.shells > 0) {
      this.host?.ref()
      channel?.ref?.()
    } else {
      this.host?.unref()
      channel?.unref?.()
    }
  }

  private kill(r: Running): void {
    if (this.host?.connected) this.host.send({ type: 'kill', key: r.key })
  }

  private busy(): number {
    let n = this.shells
    for (const run of this.runs.values()) n += run.queue.length
    return n
  }

  private pump(): void {
    if (this.stopped) return
    for (const run of this.runs.values()) {
      while (
        run.queue.length > 0 &&
        this.shells < this.maxShells &&
        run.running.size < run.concurrency &&
        !run.stopped
      ) {
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
    const env = {
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      HOME: instance.dir,
      LANG: 'C.UTF-8',
      ...this.extraEnv,
      INSTANCE_ID: id,
      INSTANCE_PORT: String(instance.port),
      INSTANCE_DIR: instance.dir,
      AWS_SSM_INSTANCE_ID: id
    }
    const key = ++this.nextKey
    const r: Running = { key, timedOut: false }
    run.running.set(id, r)
    this.shells++
    let done = false
    const onEnd = (code: number | null, signal: NodeJS.Signals | null, error?: string): void => {
      if (done) return
      done = true
      this.handlers.delete(key)
      clearTimeout(r.timer)
      this.shells--
      run.running.delete(id)
      const rc = code ?? (signal ? 128 + signalNumber(signal) : 1)
      if (error) inv.stderr = appendCapped(inv.stderr, `\nfailed to run commands: ${error}`, this.cap)
      if (!isTerminal(inv.status)) {
        if (r.timedOut) {
          inv.stderr = appendCapped(inv.stderr, '\nfailed to run commands: command execution timed out', this.cap)
          this.finish(run, inv, 'TimedOut', 'ExecutionTimedOut', -1)
        } else if (rc === 0 && !error) {
          this.finish(run, inv, 'Success', 'Success', 0)
        } else {
          inv.stderr = appendCapped(inv.stderr, `\nfailed to run commands: exit status ${rc}`, this.cap)
          this.finish(run, inv, 'Failed', 'Failed', rc)
        }
      } else {
        // cancelled meanwhile: keep Cancelled
        inv.finishedAt ??= this.now()
        this.aggregate(run)
      }
      this.refHost()
      this.pump()
    }
    this.handlers.set(key, (m) => {
      if (m.type === 'exit') onEnd(m.code, m.signal, m.error)
      else if (m.type === 'out') {
        if (inv.stdout.length < this.cap) inv.stdout = (inv.stdout + m.d).slice(0, this.cap)
      } else if (inv.stderr.length < this.cap) inv.stderr = (inv.stderr + m.d).slice(0, this.cap)
    })
    r.timer = setTimeout(() => {
      r.timedOut = true
      this.kill(r)
    }, timeoutS * 1000)
    try {
      this.shellHost().send({ type: 'run', key, script, cwd, env, cap: this.cap })
      this.refHost()
    } catch (e) {
      onEnd(null, null, (e as Error).message)
    }
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
export function commandStatus(
  command: Command,
  cancelRequested: boolean,
  maxErrors: number
): [InvocationStatus, string] {
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

/** Appends an agent line (given with a leading newline) to the output, keeping within the cap. */
function appendCapped(s: string, add: string, cap: number): string {
  if (s === '' || s.endsWith('\n')) add = add.replace(/^\n/, '')
  if (s.length + add.length <= cap) return s + add
  return s.slice(0, Math.max(0, cap - add.length)) + add
}

function signalNumber(signal: NodeJS.Signals): number {
  const map: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 }
  return map[signal] ?? 0
}
