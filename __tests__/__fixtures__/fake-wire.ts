// The wire under real SDK clients: a request handler that answers Parameter Store (JSON) and the
// load balancer's ModifyListener (XML) the way AWS does, and throttles the attempts a test says.
// aws-sdk-client-mock replaces `send`, so the SDK's middleware (its retries, and the lock's send
// gate inside them) never runs there; tests of what happens between attempts need the real stack.
import {
  ElasticLoadBalancingV2Client,
  type ElasticLoadBalancingV2ClientConfig
} from '@aws-sdk/client-elastic-load-balancing-v2'
import { SSMClient, type SSMClientConfig } from '@aws-sdk/client-ssm'
import { HttpResponse, type HttpRequest } from '@smithy/core/protocols'
import { ConfiguredRetryStrategy } from '@smithy/core/retry'
import { clientConfig } from '../../src/aws/client-config.js'
import { gated } from '../../src/aws/send-gate.js'
import type { FakeClock } from './fake-aws.js'
import { FakeParameterStore } from './fake-parameters.js'

export interface Attempt {
  action: string
  /** Fake-clock time at which the attempt went out. */
  at: number
  throttled: boolean
  /** The request's body as sent. */
  body: string
}

type Handler = (input: never) => Promise<unknown>

const ELB_XMLNS = 'http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/'

export class FakeWire {
  readonly attempts: Attempt[] = []
  readonly store: FakeParameterStore
  /** Whether the nth attempt (from 1) of an action is throttled. */
  throttle: (action: string, nth: number) => boolean = () => false
  /** Fake time a throttled attempt and the SDK's back-off before the next one take together. */
  throttleMs = 1_500
  /** Runs after every attempt has been answered: tests put another run's writes here. */
  afterAttempt: (attempt: Attempt) => void = () => undefined
  private readonly ssmHandlers = new Map<string, Handler>()

  constructor(private readonly clock: FakeClock) {
    // FakeParameterStore registers its behaviour on a stub; this one collects it per action.
    const stub = {
      on: (command: { name: string }) => ({
        callsFake: (handler: Handler) => this.ssmHandlers.set(command.name.replace(/Command$/, ''), handler)
      })
    }
    this.store = new FakeParameterStore(stub as unknown as ConstructorParameters<typeof FakeParameterStore>[0])
  }

  /** Attempts of one action, in order. */
  of(action: string): Attempt[] {
    return this.attempts.filter((a) => a.action === action)
  }

  /** Real clients over this wire: the action's own config and send gate; retries without real waits. */
  clients(): { ssm: SSMClient; elb: ElasticLoadBalancingV2Client } {
    const config = {
      ...clientConfig('us-east-1'),
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' },
      requestHandler: { handle: (request: HttpRequest) => this.handle(request) },
      retryStrategy: new ConfiguredRetryStrategy(8, () => 0)
    }
    return {
      ssm: gated(new SSMClient(config as SSMClientConfig)),
      elb: gated(new ElasticLoadBalancingV2Client(config as ElasticLoadBalancingV2ClientConfig))
    }
  }

  private async handle(request: HttpRequest): Promise<{ response: HttpResponse }> {
    const raw: unknown = request.body
    // JSON bodies are byte arrays from the SDK's realm (instanceof fails across jest's).
    const body = ArrayBuffer.isView(raw)
      ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8')
      : String(raw ?? '')
    const target = request.headers['x-amz-target']
    const action = target ? target.split('.')[1] : (new URLSearchParams(body).get('Action') ?? '?')
    const nth = this.of(action).length + 1
    const attempt: Attempt = { action, at: this.clock.now(), throttled: this.throttle(action, nth), body }
    this.attempts.push(attempt)
    let response: HttpResponse
    if (attempt.throttled) {
      this.clock.t += this.throttleMs
      response = target
        ? json(400, { __type: 'ThrottlingException', message: 'Rate exceeded' })
        : xml(
            400,
            `<ErrorResponse xmlns="${ELB_XMLNS}"><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error><RequestId>1</RequestId></ErrorResponse>`
          )
    } else if (target) {
      response = await this.answerSsm(action, JSON.parse(body || '{}'))
    } else {
      response = xml(
        200,
        `<${action}Response xmlns="${ELB_XMLNS}"><${action}Result/><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></${action}Response>`
      )
    }
    this.afterAttempt(attempt)
    return { response }
  }

  private async answerSsm(action: string, input: unknown): Promise<HttpResponse> {
    const handler = this.ssmHandlers.get(action)
    if (!handler) return json(400, { __type: 'InvalidAction', message: `${action} is not faked` })
    try {
      return json(200, await handler(input as never))
    } catch (error) {
      return json(400, { __type: (error as Error).name, message: (error as Error).message })
    }
  }
}

function json(statusCode: number, value: unknown): HttpResponse {
  return new HttpResponse({
    statusCode,
    headers: { 'content-type': 'application/x-amz-json-1.1' },
    body: Buffer.from(JSON.stringify(value))
  })
}

function xml(statusCode: number, text: string): HttpResponse {
  return new HttpResponse({ statusCode, headers: { 'content-type': 'text/xml' }, body: Buffer.from(text) })
}
