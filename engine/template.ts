/**
 * Summary and URL templates: `{{key}}`, `{{key|count}}`, `{{key|list}}`.
 * Lists show their first few items and how many more there are; a missing value shows a fallback.
 */
import type { AdditionalData } from './types.ts';

const LIST_LIMIT = 5;
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*(?:\|\s*(count|list|first))?\s*\}\}/g;

export type TemplateValues = AdditionalData;

function render(
  value: TemplateValues[string] | undefined,
  filter: string | undefined,
  missing: string,
): string {
  if (value === undefined || value === null) return filter === 'count' ? '0' : missing;
  if (Array.isArray(value)) {
    if (filter === 'count') return String(value.length);
    if (value.length === 0) return missing;
    if (filter === 'first') return value[0];
    const shown = value.slice(0, LIST_LIMIT).join(', ');
    return value.length > LIST_LIMIT ? `${shown} and ${value.length - LIST_LIMIT} more` : shown;
  }
  if (filter === 'count') return typeof value === 'number' ? String(value) : '1';
  return String(value);
}

export function fillTemplate(template: string, values: TemplateValues, missing = '?'): string {
  return template.replace(PLACEHOLDER, (_, key: string, filter: string | undefined) =>
    render(values[key], filter, missing),
  );
}

/** URL templates fill values URL-encoded; null when a placeholder has no value. */
export function fillUrl(template: string | null, values: TemplateValues): string | null {
  if (!template) return null;
  let complete = true;
  const url = template.replace(PLACEHOLDER, (_, key: string, filter: string | undefined) => {
    const value = values[key];
    if (value === undefined || value === null || (Array.isArray(value) && value.length === 0))
      complete = false;
    return encodeURIComponent(render(value, filter ?? 'first', ''));
  });
  return complete ? url : null;
}

export function placeholdersOf(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]);
}
