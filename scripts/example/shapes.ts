/**
 * Record shapes of a real organization trail beyond console API calls (DESIGN.md, "CloudTrail
 * facts"): calls a console back end makes for the person, IAM Identity Center portal events, AWS
 * service events and CloudTrail Insights events.
 */
import type { CloudTrailRecord } from '../../engine/types.ts';
import { type IdSource, iso } from './random.ts';

const JAVA_SDK =
  'aws-internal/3 aws-sdk-java/1.12.720 Linux/5.10 OpenJDK_64-Bit_Server_VM/25.402-b08 java/1.8.0_402 vendor/Oracle_Corporation cfg/retry-mode/standard';

/**
 * Console back ends that call services for the person: the same principal, creationDate and a
 * key of the service, but no `sessionCredentialFromConsole` and AWS's own address and agent.
 */
export const BACK_ENDS = {
  s3: { userAgent: `[S3Console/0.4, ${JAVA_SDK}]`, sourceIp: 'AWS Internal' },
  rds: { userAgent: `RDS Console, ${JAVA_SDK}`, sourceIp: 'rds.amazonaws.com' },
} as const;
export type BackEnd = keyof typeof BACK_ENDS;

// ---------------------------------------------------------------------------------------------
// IAM Identity Center portal (the AWS access portal, before the console)

/** An Identity Center user as the portal's events name it: no ARN, no access key. */
export interface PortalUser {
  /** The account the Identity Center instance lives in. */
  accountId: string;
  userId: string;
  identityStoreArn: string;
  credentialId: string;
}

/**
 * What the portal records when a person picks an account and a role: the accounts list, the
 * account's roles, and the role credentials it hands to the browser (their key is not logged).
 */
export function portalEvents(
  ids: IdSource,
  user: PortalUser,
  at: { region: string; sourceIp: string; userAgent: string },
  target: { accountId: string; roleName: string },
  times: { listAccounts: number; listAccountRoles: number; getRoleCredentials: number },
): CloudTrailRecord[] {
  const call = (eventName: string, time: number, requestParameters: Record<string, unknown> | null) => {
    const record: CloudTrailRecord = {
      eventVersion: '1.08',
      userIdentity: {
        type: 'IdentityCenterUser',
        accountId: user.accountId,
        onBehalfOf: { userId: user.userId, identityStoreArn: user.identityStoreArn },
        credentialId: user.credentialId,
      },
      eventTime: iso(time),
      eventSource: 'sso.amazonaws.com',
      eventName,
      awsRegion: at.region,
      sourceIPAddress: at.sourceIp,
      userAgent: at.userAgent,
      requestParameters,
      responseElements: null,
    };
    record.requestID = ids.requestId('sso');
    record.eventID = ids.eventId();
    record.readOnly = true;
    record.eventType = 'AwsApiCall';
    record.managementEvent = true;
    record.recipientAccountId = user.accountId;
    record.eventCategory = 'Management';
    record.tlsDetails = {
      tlsVersion: 'TLSv1.3',
      cipherSuite: 'TLS_AES_128_GCM_SHA256',
      clientProvidedHostHeader: `portal.sso.${at.region}.amazonaws.com`,
    };
    return record;
  };
  return [
    call('ListAccounts', times.listAccounts, null),
    call('ListAccountRoles', times.listAccountRoles, { accountId: target.accountId }),
    call('GetRoleCredentials', times.getRoleCredentials, {
      accountId: target.accountId,
      roleName: target.roleName,
    }),
  ];
}

// ---------------------------------------------------------------------------------------------
// AWS service events: AWS acting on its own (key rotation, backup jobs), no caller

export interface ServiceEvent {
  accountId: string;
  region: string;
  /** `kms`, `backup`, … (the eventSource without `.amazonaws.com`). */
  service: string;
  eventName: string;
  time: number;
  resources?: Record<string, unknown>[];
  serviceEventDetails: Record<string, unknown>;
}

export function serviceEventRecord(ids: IdSource, event: ServiceEvent): CloudTrailRecord {
  const host = `${event.service}.amazonaws.com`;
  const record: CloudTrailRecord = {
    eventVersion: '1.08',
    userIdentity: { accountId: event.accountId, invokedBy: host },
    eventTime: iso(event.time),
    eventSource: host,
    eventName: event.eventName,
    awsRegion: event.region,
    sourceIPAddress: host,
    userAgent: host,
    requestParameters: null,
    responseElements: null,
  };
  record.eventID = ids.eventId();
  record.readOnly = false;
  if (event.resources) record.resources = event.resources;
  record.eventType = 'AwsServiceEvent';
  record.managementEvent = true;
  record.recipientAccountId = event.accountId;
  record.serviceEventDetails = event.serviceEventDetails;
  record.eventCategory = 'Management';
  return record;
}

// ---------------------------------------------------------------------------------------------
// CloudTrail Insights: unusual call rates, delivered under CloudTrail-Insight/ (not API events)

export interface Insight {
  accountId: string;
  region: string;
  eventSource: string;
  eventName: string;
  /** Start and end of the unusual activity (whole minutes). */
  start: number;
  end: number;
  /** Calls per minute: usual, and during the insight. */
  baselineAverage: number;
  insightAverage: number;
  /** Who made the calls during the insight (and usually). */
  caller: { arn: string; userAgent: string };
  baselineCaller: { arn: string; userAgent: string };
}

/** The Start and End records of one ApiCallRateInsight (they share `sharedEventID`). */
export function insightRecords(ids: IdSource, insight: Insight): CloudTrailRecord[] {
  const sharedEventID = ids.eventId();
  const minutes = Math.round((insight.end - insight.start) / 60_000);
  const attributions = [
    {
      attribute: 'userIdentityArn',
      insight: [{ value: insight.caller.arn, average: insight.insightAverage }],
      baseline: [{ value: insight.baselineCaller.arn, average: insight.baselineAverage }],
    },
    {
      attribute: 'userAgent',
      insight: [{ value: insight.caller.userAgent, average: insight.insightAverage }],
      baseline: [{ value: insight.baselineCaller.userAgent, average: insight.baselineAverage }],
    },
    {
      attribute: 'errorCode',
      insight: [{ value: 'null', average: insight.insightAverage }],
      baseline: [{ value: 'null', average: insight.baselineAverage }],
    },
  ];
  const record = (state: 'Start' | 'End', time: number, statistics: Record<string, unknown>) => ({
    eventVersion: '1.08',
    eventTime: iso(time),
    awsRegion: insight.region,
    eventID: ids.eventId(),
    eventType: 'AwsCloudTrailInsight',
    recipientAccountId: insight.accountId,
    sharedEventID,
    insightDetails: {
      state,
      eventSource: insight.eventSource,
      eventName: insight.eventName,
      insightType: 'ApiCallRateInsight',
      insightContext: { statistics, attributions },
    },
    eventCategory: 'Insight',
  });
  return [
    record('Start', insight.start, {
      baseline: { average: insight.baselineAverage },
      insight: { average: insight.insightAverage },
    }),
    record('End', insight.end, {
      baseline: { average: insight.baselineAverage },
      insight: { average: insight.insightAverage },
      insightDuration: minutes,
      baselineDuration: 10_080 - minutes,
    }),
  ];
}
