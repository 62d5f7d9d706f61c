import { AutoScalingClient } from '@aws-sdk/client-auto-scaling'
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch'
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2'
import { SSMClient } from '@aws-sdk/client-ssm'

export interface AwsClients {
  elb: ElasticLoadBalancingV2Client
  ssm: SSMClient
  cloudwatch: CloudWatchClient
  autoScaling: AutoScalingClient
}

export const USER_AGENT = 'alb-blue-green-deploy-action/0.1.0'

/**
 * Clients for the four services. Adaptive retry rate-limits the client itself when AWS throttles,
 * which matters when a large fleet is polled; attempts stay bounded so that an outage fails the
 * step rather than hanging it. Endpoints come from the SDK's own AWS_ENDPOINT_URL* variables.
 */
export function createClients(
  region: string,
  elb?: ElasticLoadBalancingV2Client,
  maxAttempts = MAX_ATTEMPTS
): AwsClients {
  const config = clientConfig(region, maxAttempts)
  return {
    elb: elb ?? new ElasticLoadBalancingV2Client(config),
    ssm: new SSMClient(config),
    cloudwatch: new CloudWatchClient(config),
    autoScaling: new AutoScalingClient(config)
  }
}

const MAX_ATTEMPTS = 8

function clientConfig(region: string, maxAttempts: number) {
  return { region, maxAttempts, retryMode: 'adaptive', customUserAgent: USER_AGENT }
}

/** The load balancer client alone: the first request of every run goes through it. */
export function createElbClient(region: string): ElasticLoadBalancingV2Client {
  return new ElasticLoadBalancingV2Client(clientConfig(region, MAX_ATTEMPTS))
}
