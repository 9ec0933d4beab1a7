/**
 * Summary and URL templates: `{{key}}` with optional filters, e.g. `{{users|count}}`,
 * `{{users|list}}`, `{{users|first}}`, `{{keyName|or:none}}`, and in URLs `{{trailArn|raw}}`.
 * Lists show their first few items and how many more there are; a missing value shows a fallback.
 */
import type { AdditionalData } from './types.ts';

const LIST_LIMIT = 5;
const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*((?:\|\s*(?:count|list|first|raw|or:[^|}]*)\s*)*)\}\}/g;

export type TemplateValues = AdditionalData;

interface Filters {
  shape: 'count' | 'list' | 'first' | undefined;
  raw: boolean;
  fallback: string | undefined;
}

function parseFilters(text: string): Filters {
  const filters: Filters = { shape: undefined, raw: false, fallback: undefined };
  for (const part of text.split('|').map((p) => p.trim())) {
    if (part === 'count' || part === 'list' || part === 'first') filters.shape = part;
    else if (part === 'raw') filters.raw = true;
    else if (part.startsWith('or:')) filters.fallback = part.slice(3);
  }
  return filters;
}

function isMissing(value: TemplateValues[string] | undefined): boolean {
  return value === undefined || value === null || (Array.isArray(value) && value.length === 0);
}

function render(value: TemplateValues[string] | undefined, shape: Filters['shape'], missing: string): string {
  if (shape === 'count') {
    if (Array.isArray(value)) return String(value.length);
    if (value === undefined || value === null) return '0';
    return typeof value === 'number' ? String(value) : '1';
  }
  if (isMissing(value)) return missing;
  if (Array.isArray(value)) {
    if (shape === 'first') return value[0];
    const shown = value.slice(0, LIST_LIMIT).join(', ');
    return value.length > LIST_LIMIT ? `${shown} and ${value.length - LIST_LIMIT} more` : shown;
  }
  return String(value);
}

export function fillTemplate(template: string, values: TemplateValues, missing = '?'): string {
  return template.replace(PLACEHOLDER, (_, key: string, filterText: string) => {
    const filters = parseFilters(filterText);
    return render(values[key], filters.shape, filters.fallback ?? missing);
  });
}

/**
 * URL templates take the first value of a list and URL-encode it (`raw` keeps `:` and `/`, for
 * ARNs in paths and fragments); null when a placeholder has no value and no `or:` fallback.
 */
export function fillUrl(template: string | null, values: TemplateValues): string | null {
  if (!template) return null;
  let complete = true;
  const url = template.replace(PLACEHOLDER, (_, key: string, filterText: string) => {
    const filters = parseFilters(filterText);
    const value = values[key];
    if (isMissing(value) && filters.fallback === undefined) complete = false;
    const text = render(value, filters.shape ?? 'first', filters.fallback ?? '');
    return filters.raw ? encodeURI(text).replace(/[#?&]/g, encodeURIComponent) : encodeURIComponent(text);
  });
  return complete ? url : null;
}

export function placeholdersOf(template: string): string[] {
  return [...template.matchAll(PLACEHOLDER)].map((m) => m[1]);
}
