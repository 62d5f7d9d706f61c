// One local HTTP endpoint speaking ELBv2 and Auto Scaling (Query/XML), SSM (JSON 1.1) and
// CloudWatch (JSON 1.0), reached by the unmodified AWS SDK through AWS_ENDPOINT_URL. Requests are
// routed the way the protocols identify themselves: JSON services by X-Amz-Target, Query services
// by the API version in their form body.

import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ApiCall, CommandExecutor, World } from '../world.js'
import { AUTOSCALING_VERSION, AUTOSCALING_XMLNS, autoScalingOperations } from './autoscaling.js'
import { cloudwatchOperations } from './cloudwatch.js'
import type { Handler, ServiceContext } from './context.js'
import { ELBV2_XMLNS, elbv2Operations } from './elbv2.js'
import { ApiError } from './errors.js'
import { decideFault, seededRandom } from './faults.js'
import type { JsonObject } from './json-input.js'
import { decodeQuery, encodeQueryError, encodeQueryResult, type QueryParams } from './query-protocol.js'
import { ssmOperations } from './ssm.js'

export interface AwsEndpointOptions {
  port?: number
  /** Default for how long new SSM invocations stay invisible; world.apiFaults.consistencyDelayMs overrides. */
  consistencyDelayMs?: number
  /** Seed for fault injection. */
  seed?: number
  /** The endpoint's clock (what "now" is for publication delays and timestamps). Default Date.now. */
  now?: () => number
}

export interface AwsEndpoint {
  url: string
  close(): Promise<void>
}

type Service = ApiCall['service']

interface Reply {
  status: number
  errorCode?: string
  headers: Record<string, string>
  body: string
}

interface JsonService {
  service: Service
  contentType: string
  operations: Record<string, Handler<JsonObject>>
  throttleCode: string
  /** CloudWatch is awsQueryCompatible: the SDK reads the Query-era code from a header. */
  queryCompatible: boolean
  namespace: string
}

const JSON_SERVICES: Record<string, JsonService> = {
  AmazonSSM: {
    service: 'ssm',
    contentType: 'application/x-amz-json-1.1',
    operations: ssmOperations,
    throttleCode: 'ThrottlingException',
    queryCompatible: false,
    namespace: 'com.amazonaws.ssm'
  },
  GraniteServiceVersion20100801: {
    service: 'cloudwatch',
    contentType: 'application/x-amz-json-1.0',
    operations: cloudwatchOperations,
    throttleCode: 'Throttling',
    queryCompatible: true,
    namespace: 'com.amazonaws.cloudwatch'
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/** A decoded request, ready to run: which service and operation, and its parameters. */
interface Decoded {
  service: Service
  operation: string
  params: unknown
  run(ctx: ServiceContext, requestId: string): Reply
  fail(error: ApiError, requestId: string): Reply
}

function decodeRequest(req: IncomingMessage, body: string): Decoded {
  const target = req.headers['x-amz-target']
  if (typeof target === 'string' && target.includes('.')) {
    const [prefix, operation] = target.split('.', 2)
    const svc = JSON_SERVICES[prefix]
    if (svc) return decodeJson(svc, operation, body)
  }
  return decodeQueryService(body)
}

interface QueryService {
  service: Service
  xmlns: string
  version: string
  operations: Record<string, Handler<QueryParams>>
}

const ELBV2: QueryService = { service: 'elbv2', xmlns: ELBV2_XMLNS, version: '2015-12-01', operations: elbv2Operations }
const AUTOSCALING: QueryService = {
  service: 'autoscaling',
  xmlns: AUTOSCALING_XMLNS,
  version: AUTOSCALING_VERSION,
  operations: autoScalingOperations
}

function decodeQueryService(body: string): Decoded {
  const { action, version, params } = decodeQuery(body)
  const svc = version === AUTOSCALING_VERSION ? AUTOSCALING : ELBV2
  const xml = (status: number, text: string, requestId: string): Reply => ({
    status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: text
  })
  const fail = (error: ApiError, requestId: string): Reply => ({
    ...xml(error.status, encodeQueryError(svc.xmlns, error, requestId), requestId),
    errorCode: error.code
  })
  return {
    service: svc.service,
    operation: action,
    params,
    fail,
    run(ctx, requestId) {
      const handler = Object.hasOwn(svc.operations, action) ? svc.operations[action] : undefined
      if (!handler) throw new ApiError('InvalidAction', `Could not find operation ${action} for version ${svc.version}`)
      return xml(200, encodeQueryResult(svc.xmlns, action, handler(params, ctx), requestId), requestId)
    }
  }
}

function decodeJson(svc: JsonService, operation: string, body: string): Decoded {
  let params: unknown
  let parseError: ApiError | undefined
  try {
    params = body.trim() === '' ? {} : JSON.parse(body)
    if (!params || typeof params !== 'object' || Array.isArray(params)) throw new Error('not an object')
  } catch {
    parseError = new ApiError('SerializationException', 'Request body is not a JSON object')
    params = body
  }
  const fail = (error: ApiError, requestId: string): Reply => {
    const headers: Record<string, string> = { 'content-type': svc.contentType, 'x-amzn-requestid': requestId }
    if (svc.queryCompatible) headers['x-amzn-query-error'] = `${error.code};${error.fault}`
    const type = svc.queryCompatible ? `${svc.namespace}#${error.code}` : error.code
    return {
      status: error.status,
      errorCode: error.code,
      headers,
      body: JSON.stringify({ __type: type, message: error.message })
    }
  }
  return {
    service: svc.service,
    operation,
    params,
    fail,
    run(ctx, requestId) {
      if (parseError) throw parseError
      const handler = Object.hasOwn(svc.operations, operation) ? svc.operations[operation] : undefined
      if (!handler) throw new ApiError('UnknownOperationException', `Unknown operation ${operation}`)
      return {
        status: 200,
        headers: { 'content-type': svc.contentType, 'x-amzn-requestid': requestId },
        body: JSON.stringify(handler(params as JsonObject, ctx))
      }
    }
  }
}

/** The access key id of a SigV4-signed request (`Credential=AKID/date/region/service/aws4_request`). */
export function callerOf(req: IncomingMessage): string | undefined {
  const auth = req.headers.authorization
  return typeof auth === 'string' ? /Credential=([^/,\s]+)\//.exec(auth)?.[1] : undefined
}

/** The SDKs number their attempts at one call in a header: `amz-sdk-request: attempt=2; max=8`. */
export function sdkAttempt(req: IncomingMessage): number | undefined {
  const header = req.headers['amz-sdk-request']
  const attempt = typeof header === 'string' ? /attempt=(\d+)/.exec(header)?.[1] : undefined
  return attempt === undefined ? undefined : Number(attempt)
}

const throttleError = (service: Service): ApiError =>
  new ApiError(service === 'ssm' ? 'ThrottlingException' : 'Throttling', 'Rate exceeded')

export async function startAwsEndpoint(
  world: World,
  executor: CommandExecutor,
  opts: AwsEndpointOptions = {}
): Promise<AwsEndpoint> {
  const random = seededRandom(opts.seed ?? 1)
  let answered = 0
  const ctx: ServiceContext = {
    world,
    executor,
    now: opts.now ?? (() => Date.now()),
    consistencyDelayMs: () => world.apiFaults.consistencyDelayMs ?? opts.consistencyDelayMs ?? 0,
    extraTags: new Map()
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req)
    const at = Date.now()
    const decoded = decodeRequest(req, body)
    const userAgent = [req.headers['x-amz-user-agent'], req.headers['user-agent']].find(
      (h): h is string => typeof h === 'string'
    )
    const call: ApiCall = {
      at,
      service: decoded.service,
      operation: decoded.operation,
      params: decoded.params,
      status: 0,
      caller: callerOf(req),
      userAgent
    }
    world.calls.push(call)
    call.attempt = sdkAttempt(req)
    const own = world.apiFaults.callerLatencyMs ?? {}
    const latency =
      world.apiFaults.latencyMs +
      (call.caller ? (own[call.caller] ?? 0) + (own[`${call.caller}/${call.service}`] ?? 0) : 0)
    if (latency > 0) await sleep(latency)

    const fault = decideFault(world.apiFaults, random)
    if (fault === 'drop') {
      call.errorCode = 'ConnectionDropped'
      req.socket.destroy()
      return
    }
    const requestId = randomUUID()
    call.answeredAt = Date.now()
    call.seq = ++answered
    let reply: Reply
    if (fault === 'throttle') {
      const error = throttleError(decoded.service)
      reply = decoded.fail(error, requestId)
    } else if (world.apiFaults.denied?.includes(`${decoded.service}:${decoded.operation}`)) {
      const code = decoded.service === 'ssm' ? 'AccessDeniedException' : 'AccessDenied'
      const message = `User: arn:aws:sts::${world.accountId}:assumed-role/deploy/run is not authorized to perform: ${decoded.service}:${decoded.operation}`
      reply = decoded.fail(new ApiError(code, message, decoded.service === 'ssm' ? 400 : 403), requestId)
    } else {
      try {
        ctx.currentCall = call
        reply = decoded.run(ctx, requestId)
      } catch (e) {
        const error =
          e instanceof ApiError
            ? e
            : new ApiError(
                decoded.service === 'ssm' ? 'InternalServerError' : 'InternalFailure',
                e instanceof Error ? e.message : String(e),
                500,
                'Receiver'
              )
        reply = decoded.fail(error, requestId)
      } finally {
        ctx.currentCall = undefined
      }
    }
    call.status = reply.status
    if (reply.errorCode) call.errorCode = reply.errorCode
    res.writeHead(reply.status, { ...reply.headers, 'content-length': Buffer.byteLength(reply.body) })
    res.end(reply.body)
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain' })
        res.end(e instanceof Error ? e.message : String(e))
      }
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve())
  })
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()))
        server.closeAllConnections()
      })
  }
}
