/** Shapes shared by every stage of the engine: raw records in, signals and sessions out. */

/** A CloudTrail record as AWS writes it; only the fields the engine reads are typed. */
export interface CloudTrailRecord {
  eventVersion?: string;
  eventID?: string;
  eventTime?: string;
  eventSource?: string;
  eventName?: string;
  eventType?: string;
  awsRegion?: string;
  sourceIPAddress?: string;
  userAgent?: string;
  errorCode?: string | null;
  errorMessage?: string | null;
  requestParameters?: unknown;
  responseElements?: unknown;
  additionalEventData?: unknown;
  recipientAccountId?: string;
  sessionCredentialFromConsole?: string;
  userIdentity?: UserIdentity;
  [field: string]: unknown;
}

export interface UserIdentity {
  type?: string;
  principalId?: string;
  arn?: string;
  accountId?: string;
  accessKeyId?: string;
  userName?: string;
  sessionContext?: {
    sessionIssuer?: { type?: string; arn?: string; userName?: string };
    attributes?: { mfaAuthenticated?: string; creationDate?: string };
    sourceIdentity?: string;
  };
  [field: string]: unknown;
}

/** Where a record came from, so every error and every event can be traced to its input. */
export interface EventOrigin {
  /** File path, S3 key or `-` for stdin. */
  source: string;
  /** Position of the record in that source. */
  index: number;
}

/** A record after reading: validated core fields plus its origin. */
export interface TrailEvent {
  id: string;
  /** Epoch milliseconds of eventTime. */
  time: number;
  /** `service:EventName`, service being the eventSource without `.amazonaws.com`. */
  ref: string;
  record: CloudTrailRecord;
  origin: EventOrigin;
}

export type Risk = 'info' | 'low' | 'medium' | 'high' | 'critical';
export const RISK_LEVELS: readonly Risk[] = ['info', 'low', 'medium', 'high', 'critical'];

/**
 * What explains a signal: a rule's console `action`, console `background` polling (Suppress rules),
 * or the `generic` layer (a call no rule claims: a write of its own, or a page view).
 */
export type SignalKind = 'action' | 'background' | 'generic';

export type AdditionalData = Record<string, string | number | boolean | string[] | null>;

/** The signal contract of DESIGN.md ("Signal JSON"). */
export interface Signal {
  id: string;
  label: string;
  kind: SignalKind;
  name: string;
  summary: string;
  url: string | null;
  service: string;
  risk: Risk;
  /** eventID of the signal's first event (by time, then eventID). */
  correlationId: string;
  eventIds: string[];
  eventCount: number;
  firstEventTime: string;
  lastEventTime: string;
  additionalData: AdditionalData;
  sessionId: string;
}

export interface SessionSummary {
  id: string;
  /** How the session was recognised: console credentials, a sign-in, or one anonymous input file. */
  kind: 'console' | 'file';
  principalArn: string | null;
  principalType: string | null;
  accountId: string | null;
  /** The key most of its calls used (the console uses one per service, renewed). */
  accessKeyId: string | null;
  /** Every temporary key the session's calls used. */
  accessKeyIds: string[];
  sourceIps: string[];
  /** Where the source addresses are (offline GeoIP), when a lookup was available. */
  sourceLocations: SourceLocation[];
  userAgents: string[];
  regions: string[];
  /** true/false when the trail says, null when it does not. */
  mfaUsed: boolean | null;
  loginResult: 'Success' | 'Failure' | null;
  startTime: string;
  endTime: string;
  eventCount: number;
  /** Recognised console actions (background and generic signals aside). */
  signalCount: number;
  /** Generic signals: writes and page views no rule recognises. */
  genericSignalCount: number;
  mappedEventCount: number;
  /** Events no specific rule explains (generic signals hold the console's among them). */
  unmappedEventCount: number;
  suppressedEventCount: number;
  errorCount: number;
  services: string[];
  riskySignals: { id: string; label: string; risk: Risk; summary: string }[];
  unmappedEventIds: string[];
  summary: string;
}

/** One source address, classified and (when public) located. */
export interface SourceLocation {
  ip: string;
  kind: string;
  country: string | null;
  asn: number | null;
  asOrg: string | null;
}

/** Looks up where an address is; the offline GeoIP database implements it (engine/geoip.ts). */
export type AddressLookup = (address: string) => Omit<SourceLocation, 'ip'>;

/** How one input event was explained. */
export interface EventEnrichment {
  eventId: string;
  eventTime: string;
  ref: string;
  sessionId: string | null;
  signalId: string | null;
  label: string | null;
  origin: EventOrigin;
}

/** A problem with one input (file, object, record) that did not stop the others. */
export interface InputProblem {
  source: string;
  reason: string;
  index?: number;
}
