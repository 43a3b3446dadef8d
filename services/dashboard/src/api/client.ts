/**
 * The one way the dashboard talks to the API: same origin, JSON, errors as ApiError with the
 * API's `{ code, message, details? }`. A route the API does not have yet answers 404
 * PW_ERR_NOT_FOUND ("no route …"): that is a NotAvailableError, which pages show as
 * "not available yet" instead of an error.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

export class NotAvailableError extends ApiError {
  constructor(readonly route: string) {
    super(404, 'PW_ERR_NOT_FOUND', `${route} is not available in this API yet`);
    this.name = 'NotAvailableError';
  }
}

export interface RequestOptions {
  method?: 'GET' | 'POST';
  body?: unknown;
  /** Send `body` as this content type verbatim (a string), e.g. application/yaml. */
  contentType?: string;
  signal?: AbortSignal;
}

export async function api<T>(path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  let body: string | undefined;
  if (options.body !== undefined) {
    headers['content-type'] = options.contentType ?? 'application/json';
    body = typeof options.body === 'string' && options.contentType ? options.body : JSON.stringify(options.body);
  }
  let response: Response;
  try {
    response = await fetch(path, { method: options.method ?? (body === undefined ? 'GET' : 'POST'), headers, body, signal: options.signal ?? null });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'NETWORK', `cannot reach the API: ${(error as Error).message}`);
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const error = (json ?? {}) as { code?: string; message?: string; details?: unknown };
    if (response.status === 404 && error.code === 'PW_ERR_NOT_FOUND' && /^no route /.test(error.message ?? '')) {
      throw new NotAvailableError(`${options.method ?? 'GET'} ${path.split('?')[0]}`);
    }
    throw new ApiError(response.status, error.code ?? `HTTP_${response.status}`, error.message ?? (text || response.statusText), error.details);
  }
  return json as T;
}

/** `?a=1&b=2` from the defined, non-empty values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

export const enc = encodeURIComponent;
