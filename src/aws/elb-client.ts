import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import { clientConfig } from './client-config.js'
import { gated } from './send-gate.js'

/**
 * The load balancer client alone: the first request of every run goes through it. It lives apart
 * from the other clients so that loading it does not load them: SSM's and CloudWatch's code would
 * otherwise be evaluated before that request goes out, and every run would wait for it.
 */
export function createElbClient(region: string): ElasticLoadBalancingV2Client {
  return gated(new ElasticLoadBalancingV2Client(clientConfig(region)))
}
