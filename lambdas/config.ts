/** Handler configuration from environment variables, validated once at cold start with clear errors. */

export interface PipelineConfig {
  /** DynamoDB session buffer table. */
  tableName: string;
  /** Bucket and key prefix the enriched dataset is written under. */
  enrichedBucket: string;
  enrichedPrefix: string;
  /** A session is written once its last event is this old (events can still arrive until then). */
  settleDelayMs: number;
  /** Largest decompressed CloudTrail object accepted. */
  maxObjectBytes: number;
  /** How long buffered chunks live: well beyond the settle delay, so they always get flushed first. */
  bufferTtlMs: number;
  /** Partitions of the due index (spreads its writes). */
  dueShards: number;
  /** Log group that receives one session-summary line per session update (optional). */
  sessionsLogGroup: string | null;
}

export class ConfigError extends Error {}

type Env = Record<string, string | undefined>;

function required(env: Env, name: string, problems: string[]): string {
  const value = env[name];
  if (!value) problems.push(`${name} is required`);
  return value ?? '';
}

function integer(
  env: Env,
  name: string,
  fallback: number,
  min: number,
  max: number,
  problems: string[],
): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    problems.push(`${name} must be an integer from ${min} to ${max} (got ${JSON.stringify(raw)})`);
    return fallback;
  }
  return value;
}

export function loadConfig(env: Env = process.env): PipelineConfig {
  const problems: string[] = [];
  const settleSeconds = integer(env, 'SETTLE_DELAY_SECONDS', 900, 60, 86_400, problems);
  const ttlDays = integer(env, 'BUFFER_TTL_DAYS', 7, 1, 365, problems);
  const config: PipelineConfig = {
    tableName: required(env, 'BUFFER_TABLE', problems),
    enrichedBucket: required(env, 'ENRICHED_BUCKET', problems),
    enrichedPrefix: (env.ENRICHED_PREFIX ?? 'enriched/').replace(/^\/+/, ''),
    settleDelayMs: settleSeconds * 1000,
    maxObjectBytes: integer(
      env,
      'MAX_OBJECT_BYTES',
      512 * 1024 * 1024,
      1024,
      2 * 1024 * 1024 * 1024,
      problems,
    ),
    bufferTtlMs: ttlDays * 86_400_000,
    dueShards: integer(env, 'DUE_SHARDS', 8, 1, 64, problems),
    sessionsLogGroup: env.SESSIONS_LOG_GROUP || null,
  };
  if (config.enrichedPrefix && !config.enrichedPrefix.endsWith('/')) config.enrichedPrefix += '/';
  if (config.bufferTtlMs < 4 * config.settleDelayMs) {
    problems.push('BUFFER_TTL_DAYS must leave at least four settle delays before buffered events expire');
  }
  if (problems.length > 0) throw new ConfigError(`invalid Trailmap configuration: ${problems.join('; ')}`);
  return config;
}
