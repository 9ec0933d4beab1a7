/** The logging the handlers need; Powertools Logger satisfies it (structured JSON, so values cannot forge lines). */
export interface PipelineLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** Collects log entries in memory (simulate and tests). */
export class MemoryLogger implements PipelineLogger {
  readonly entries: { level: 'info' | 'warn' | 'error'; message: string; fields: Record<string, unknown> }[] =
    [];
  info(message: string, fields: Record<string, unknown> = {}): void {
    this.entries.push({ level: 'info', message, fields });
  }
  warn(message: string, fields: Record<string, unknown> = {}): void {
    this.entries.push({ level: 'warn', message, fields });
  }
  error(message: string, fields: Record<string, unknown> = {}): void {
    this.entries.push({ level: 'error', message, fields });
  }
}

/** Adapts Powertools Logger (structured JSON to CloudWatch) to the handlers' logging. */
export function powertoolsLogger(logger: {
  info(message: string, extra: Record<string, unknown>): void;
  warn(message: string, extra: Record<string, unknown>): void;
  error(message: string, extra: Record<string, unknown>): void;
}): PipelineLogger {
  return {
    info: (message, fields = {}) => logger.info(message, fields),
    warn: (message, fields = {}) => logger.warn(message, fields),
    error: (message, fields = {}) => logger.error(message, fields),
  };
}
