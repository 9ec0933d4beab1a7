/** Classifies a CloudTrail userAgent into the families rules and summaries care about. */
export type UserAgentFamily =
  'browser' | 'console' | 'aws-internal' | 'service' | 'cli' | 'sdk' | 'signin' | 'unknown';

/**
 * A trail has few distinct user agents and every record is asked about more than once (reading,
 * sessionizing, mapping): remember the answers, within a bound so hostile input cannot grow it.
 */
const known = new Map<string, UserAgentFamily>();
const KNOWN_MAX = 4096;

export function userAgentFamily(agent: string | undefined): UserAgentFamily {
  if (!agent) return 'unknown';
  let family = known.get(agent);
  if (family === undefined) {
    if (known.size >= KNOWN_MAX) known.clear();
    known.set(agent, (family = classify(agent)));
  }
  return family;
}

function classify(agent: string): UserAgentFamily {
  if (/^Mozilla\//.test(agent)) return 'browser';
  if (/S3Console|EC2ConsoleFrontend|AWS Console|console\.amazonaws\.com|\[AWSCloudTrail/i.test(agent))
    return 'console';
  if (/^aws-cli\//.test(agent)) return 'cli';
  if (/^Jersey\//.test(agent)) return 'signin';
  // `md/internal` marks an AWS service's own SDK client (e.g. CloudShell's backend), and
  // `aws-internal/3` a console back end calling for the person (`RDS Console, aws-internal/3
  // aws-sdk-java/…`): not a user's script.
  if (agent === 'AWS Internal' || /(^|[\s,[])aws-internal\/\d/.test(agent) || /\bmd\/internal\b/.test(agent))
    return 'aws-internal';
  if (/^[a-z0-9.-]+\.amazonaws\.com$/.test(agent)) return 'service';
  if (/aws-sdk|Boto3|botocore|aws-cdk|terraform|HashiCorp/i.test(agent)) return 'sdk';
  return 'unknown';
}

/** True when the agent is one the console (or AWS on its behalf) uses, not a CLI or SDK. */
export function isConsoleFamily(family: UserAgentFamily): boolean {
  return family === 'browser' || family === 'console' || family === 'aws-internal' || family === 'signin';
}
