// Instances of the local fleet: each one is a real HTTP server on its own loopback port serving a
// tiny app, with its own directory holding what was "deployed" to it:
//
//   <dir>/version     the version the app reports (GET / -> `version=<v>`, header x-app-version)
//   <dir>/behaviour   ok | unhealthy (GET /health -> 503) | errors (GET / -> 500, health still 200)
//                     | flaky (every 5th GET / -> 500) | slow (GET / answered SLOW_MS later)
//   <dir>/restart     executable: restarts the app, which re-reads the files above
//   <dir>/schemas     optional, e.g. `1-2`: the database schema versions this version works with.
//                     When present, GET / reads the fleet's shared database (a file holding the
//                     schema version, see FleetOptions.databaseFile) and answers 500 outside it:
//                     what an app does when a column it reads is gone or one it needs is missing.
//
// A deploy command run on an instance (sandbox/fleet/command-executor.ts runs them in <dir>) is
// therefore e.g. `echo v2 > version && echo ok > behaviour && ./restart`.
//
// All servers live in the sandbox process (one http.Server per instance, one shared handler), so a
// 1,000-instance fleet starts in well under a second. `restart` talks to the fleet's control server
// over bash's /dev/tcp (no curl, no node start-up per call) and returns once the app is back up.

import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import path from 'node:path'
import type { AppBehaviour, Instance } from '../world.js'

export interface InstanceSpec {
  /** Defaults to a random `i-` + 17 hex digits id. */
  id?: string
  version: string
  behaviour?: AppBehaviour
  /** Fixed loopback port; 0 / unset picks a free one. */
  port?: number
  platformType?: 'Linux' | 'Windows'
  managedBySsm?: boolean
  pingStatus?: Instance['pingStatus']
  /** False: the app is installed but not started (an instance still booting); `./restart` starts it. */
  up?: boolean
  /** Schema versions the app works with, e.g. `1-2` (written to <dir>/schemas). */
  schemas?: string
}

export interface FleetOptions {
  /** Parent directory of every instance directory (created if missing). */
  rootDir: string
  /** How long the app is down while restarting (connections are reset meanwhile). Default 150 ms. */
  restartDowntimeMs?: number
  host?: string
  /** The shared "database": a file holding its schema version, read by apps that have a schemas file. */
  databaseFile?: string
}

/** What an instance's app currently runs (as loaded at its last (re)start). */
export interface AppState {
  version: string
  behaviour: AppBehaviour
  /** Schema versions this version works with, when it uses the database. */
  schemas?: { min: number; max: number }
  up: boolean
  restarts: number
  startedAt: number
}

interface LocalInstance {
  info: Instance
  app: AppState
  server: http.Server
  sockets: Set<Socket>
  restarting?: Promise<AppState>
  /** Requests served (other than health checks), for `flaky`. */
  served: number
}

const BEHAVIOURS: readonly AppBehaviour[] = ['ok', 'unhealthy', 'errors', 'flaky', 'slow']
/** How much later a `slow` app answers (its health check stays fast, as a cheap endpoint would). */
export const SLOW_MS = 150
/** A `flaky` app answers one request in this many with a 500. */
export const FLAKY_EVERY = 5

export function randomInstanceId(): string {
  return 'i-' + randomBytes(9).toString('hex').slice(0, 17)
}

export class InstanceFleet {
  readonly rootDir: string
  private readonly host: string
  private readonly downtimeMs: number
  private readonly instances = new Map<string, LocalInstance>()
  private control?: http.Server
  private controlPort = 0
  private readonly databaseFile?: string
  private schemaCache = { readAt: 0, schema: undefined as number | undefined }

  private constructor(opts: FleetOptions) {
    this.rootDir = opts.rootDir
    this.host = opts.host ?? '127.0.0.1'
    this.downtimeMs = opts.restartDowntimeMs ?? 150
    this.databaseFile = opts.databaseFile
  }

  /** Starts the fleet's control server (used by each instance's `restart` script). */
  static async start(opts: FleetOptions): Promise<InstanceFleet> {
    const fleet = new InstanceFleet(opts)
    await mkdir(opts.rootDir, { recursive: true })
    const control = http.createServer((req, res) => void fleet.onControl(req, res))
    control.keepAliveTimeout = 1000
    await listen(control, 0, fleet.host)
    fleet.control = control
    fleet.controlPort = (control.address() as AddressInfo).port
    return fleet
  }

  /** Base URL of the control server: POST /restart/<id>, GET /state/<id>. */
  get controlUrl(): string {
    return `http://${this.host}:${this.controlPort}`
  }

  /** Creates the instance's directory and files and starts its app. Add `info` to the world yourself. */
  async add(spec: InstanceSpec): Promise<Instance> {
    const id = spec.id ?? randomInstanceId()
    if (this.instances.has(id)) throw new Error(`instance ${id} already exists`)
    const dir = path.join(this.rootDir, id)
    await mkdir(dir, { recursive: true })
    await Promise.all([
      writeFile(path.join(dir, 'version'), spec.version + '\n'),
      writeFile(path.join(dir, 'behaviour'), (spec.behaviour ?? 'ok') + '\n'),
      ...(spec.schemas ? [writeFile(path.join(dir, 'schemas'), spec.schemas + '\n')] : []),
      writeFile(path.join(dir, 'restart'), restartScript(this.host, this.controlPort, id), { mode: 0o755 })
    ])
    await chmod(path.join(dir, 'restart'), 0o755)

    const app: AppState = {
      version: spec.version,
      behaviour: spec.behaviour ?? 'ok',
      schemas: parseSchemas(spec.schemas ?? ''),
      up: spec.up ?? true,
      restarts: 0,
      startedAt: Date.now()
    }
    const sockets = new Set<Socket>()
    const server = http.createServer((req, res) => this.serve(local, req, res))
    server.keepAliveTimeout = 65_000 // like an app behind an ALB: longer than the LB's idle timeout
    server.headersTimeout = 66_000
    server.on('connection', (s: Socket) => {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
    })
    await listen(server, spec.port ?? 0, this.host)
    const info: Instance = {
      id,
      port: (server.address() as AddressInfo).port,
      dir,
      pingStatus: spec.pingStatus ?? 'Online',
      managedBySsm: spec.managedBySsm ?? true,
      platformType: spec.platformType ?? 'Linux'
    }
    const local: LocalInstance = { info, app, server, sockets, served: 0 }
    this.instances.set(id, local)
    return info
  }

  /** Adds many instances, a bounded number at a time (1,000 start in well under a second). */
  async addMany(specs: InstanceSpec[], parallel = 64): Promise<Instance[]> {
    const out: Instance[] = new Array(specs.length)
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < specs.length) {
        const i = next++
        out[i] = await this.add(specs[i])
      }
    }
    await Promise.all(Array.from({ length: Math.min(parallel, specs.length) }, worker))
    return out
  }

  get(id: string): Instance | undefined {
    return this.instances.get(id)?.info
  }

  ids(): string[] {
    return [...this.instances.keys()]
  }

  /** What the app currently serves. */
  app(id: string): AppState | undefined {
    const inst = this.instances.get(id)
    return inst ? { ...inst.app } : undefined
  }

  /**
   * Restarts the app: it goes down for the restart downtime (new requests are reset), then
   * re-reads `version` and `behaviour` from its directory. Concurrent calls share one restart.
   */
  restart(id: string): Promise<AppState> {
    const inst = this.instances.get(id)
    if (!inst) return Promise.reject(new Error(`no such instance ${id}`))
    if (inst.restarting) return inst.restarting
    inst.restarting = (async () => {
      try {
        inst.app.up = false
        for (const s of inst.sockets) s.destroy()
        const [version, behaviour, schemas] = await Promise.all([
          readTrimmed(path.join(inst.info.dir, 'version')),
          readTrimmed(path.join(inst.info.dir, 'behaviour')),
          readTrimmed(path.join(inst.info.dir, 'schemas'))
        ])
        await sleep(this.downtimeMs)
        inst.app.version = version || 'unknown'
        inst.app.behaviour = (BEHAVIOURS as readonly string[]).includes(behaviour) ? (behaviour as AppBehaviour) : 'ok'
        inst.app.schemas = parseSchemas(schemas)
        inst.app.restarts++
        inst.app.startedAt = Date.now()
        return { ...inst.app }
      } finally {
        inst.app.up = true
        inst.restarting = undefined
      }
    })()
    return inst.restarting
  }

  /** Stops (up=false: connections reset) or starts an app without reloading it. */
  setUp(id: string, up: boolean): void {
    const inst = this.instances.get(id)
    if (!inst) throw new Error(`no such instance ${id}`)
    inst.app.up = up
    if (!up) for (const s of inst.sockets) s.destroy()
  }

  /** Changes the running app directly (tests); does not touch the files. */
  setApp(id: string, change: Partial<Pick<AppState, 'version' | 'behaviour'>>): void {
    const inst = this.instances.get(id)
    if (!inst) throw new Error(`no such instance ${id}`)
    Object.assign(inst.app, change)
  }

  /** Stops an instance for good (terminated): its server closes, open connections are cut. */
  async remove(id: string): Promise<void> {
    const inst = this.instances.get(id)
    if (!inst) return
    this.instances.delete(id)
    inst.app.up = false
    await closeServer(inst.server)
  }

  /** Stops every instance server and the control server. */
  async stop(): Promise<void> {
    const servers = [...[...this.instances.values()].map((i) => i.server), ...(this.control ? [this.control] : [])]
    this.instances.clear()
    this.control = undefined
    await Promise.all(servers.map((s) => closeServer(s)))
  }

  private serve(inst: LocalInstance, req: http.IncomingMessage, res: http.ServerResponse): void {
    if (!inst.app.up) {
      req.socket.destroy()
      return
    }
    const { version, behaviour } = inst.app
    const headers = { 'content-type': 'text/plain', 'x-app-version': version, 'x-instance-id': inst.info.id }
    const url = req.url ?? '/'
    const pathname = url.split('?')[0]
    req.resume()
    if (pathname === '/health') {
      const ok = behaviour !== 'unhealthy'
      res.writeHead(ok ? 200 : 503, headers)
      res.end(ok ? 'ok\n' : 'unhealthy\n')
      return
    }
    inst.served++
    if (behaviour === 'errors' || (behaviour === 'flaky' && inst.served % FLAKY_EVERY === 0)) {
      res.writeHead(500, headers)
      res.end(`error version=${version}`)
      return
    }
    const schemas = inst.app.schemas
    if (schemas && this.databaseFile) {
      const schema = this.databaseSchema()
      if (schema === undefined || schema < schemas.min || schema > schemas.max) {
        res.writeHead(500, { ...headers, 'x-db-schema': String(schema ?? 'none') })
        res.end(
          `error version=${version}: database schema ${schema ?? 'unreadable'}, this version works with ${schemas.min}-${schemas.max}`
        )
        return
      }
      res.writeHead(200, { ...headers, 'x-db-schema': String(schema) })
      res.end(`version=${version} schema=${schema}`)
      return
    }
    if (behaviour === 'slow') {
      const timer = setTimeout(() => {
        res.writeHead(200, headers)
        res.end(`version=${version}`)
      }, SLOW_MS)
      res.on('close', () => clearTimeout(timer))
      return
    }
    res.writeHead(200, headers)
    res.end(`version=${version}`)
  }

  /** The database's schema version, read at most every 50 ms (a file read per request is wasteful). */
  databaseSchema(): number | undefined {
    const now = Date.now()
    if (this.databaseFile && now - this.schemaCache.readAt >= 50) {
      let schema: number | undefined
      try {
        schema = Number(readFileSync(this.databaseFile, 'utf8').trim())
      } catch {
        schema = undefined
      }
      this.schemaCache = { readAt: now, schema: Number.isInteger(schema) ? schema : undefined }
    }
    return this.schemaCache.schema
  }

  private async onControl(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    req.resume()
    const m = /^\/(restart|state)\/([^/?]+)/.exec(req.url ?? '')
    const inst = m ? this.instances.get(decodeURIComponent(m[2])) : undefined
    if (!m || !inst) {
      res.writeHead(404, { 'content-type': 'text/plain', connection: 'close' })
      res.end('no such instance\n')
      return
    }
    try {
      const state = m[1] === 'restart' && req.method === 'POST' ? await this.restart(inst.info.id) : inst.app
      res.writeHead(200, { 'content-type': 'text/plain', connection: 'close' })
      res.end(`${inst.info.id} version=${state.version} behaviour=${state.behaviour}\n`)
    } catch (e) {
      res.writeHead(500, { 'content-type': 'text/plain', connection: 'close' })
      res.end(`restart failed: ${(e as Error).message}\n`)
    }
  }
}

function restartScript(host: string, port: number, id: string): string {
  // bash builtins only (no curl/cat): a deploy to 1,000 instances should not fork 5 processes each.
  return `#!/usr/bin/env bash
# Restarts this sandbox instance's app, which then serves ./version with ./behaviour.
# Returns once the app is back up; prints what it now runs.
exec 3<>/dev/tcp/${host}/${port} || { echo "restart: cannot reach the sandbox control server" >&2; exit 1; }
printf 'POST /restart/${id} HTTP/1.0\\r\\nHost: ${host}\\r\\nContent-Length: 0\\r\\n\\r\\n' >&3
IFS= read -r status <&3
while IFS= read -r line <&3 && [ "\${line%$'\\r'}" != "" ]; do :; done
IFS= read -r body <&3
exec 3<&-
case "$status" in
  "HTTP/1."?" 200"*) echo "restarted $body" ;;
  *) echo "restart failed: \${status%$'\\r'} $body" >&2; exit 1 ;;
esac
`
}

/** `1-2` -> { min: 1, max: 2 }; `3` -> { min: 3, max: 3 }; anything else: the app uses no database. */
export function parseSchemas(text: string): AppState['schemas'] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text.trim())
  if (!m) return undefined
  return { min: Number(m[1]), max: Number(m[2] ?? m[1]) }
}

async function readTrimmed(file: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim()
  } catch {
    return ''
  }
}

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
}

export function closeServer(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve())
    server.closeAllConnections()
  })
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
