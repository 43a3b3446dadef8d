import { useCallback, useEffect, useRef, useState } from 'react';
import { NotAvailableError } from './client.ts';

export interface Loaded<T> {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  /** Loads again (keeps showing the last data meanwhile). */
  reload(): void;
}

/**
 * Loads `load()` when `key` changes, and again on reload(). The previous request is aborted, so
 * a slow old answer never replaces a newer one.
 */
export function useApi<T>(key: string | null, load: (signal: AbortSignal) => Promise<T>): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: Error | undefined; loading: boolean; key: string | null }>({
    data: undefined,
    error: undefined,
    loading: key !== null,
    key,
  });
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    if (key === null) return;
    const controller = new AbortController();
    setState((s) => ({ ...s, loading: true, ...(s.key === key ? {} : { data: undefined, error: undefined, key }) }));
    loadRef.current(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setState({ data, error: undefined, loading: false, key });
      },
      (error: Error) => {
        if (!controller.signal.aborted && error.name !== 'AbortError') setState((s) => ({ ...s, error, loading: false, key }));
      },
    );
    return () => controller.abort();
  }, [key, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data: state.key === key ? state.data : undefined, error: state.key === key ? state.error : undefined, loading: state.loading, reload };
}

export const isNotAvailable = (error: unknown): error is NotAvailableError => error instanceof NotAvailableError;

export type StreamState = 'connecting' | 'live' | 'reconnecting' | 'unavailable';

/**
 * Subscribes to a server-sent event stream while mounted. `handlers` maps event names to
 * callbacks; the latest handlers are always used without reconnecting. EventSource reconnects by
 * itself; the API sends the current state on every connect, so nothing is missed.
 */
export function useEventStream(url: string | null, handlers: Record<string, (data: unknown) => void>): StreamState {
  const [state, setState] = useState<StreamState>('connecting');
  const handlersRef = useRef(handlers);
  handlersRef.current = handlers;
  const names = Object.keys(handlers).sort().join(',');

  useEffect(() => {
    if (url === null) return;
    setState('connecting');
    const source = new EventSource(url);
    let opened = false;
    source.onopen = () => {
      opened = true;
      setState('live');
    };
    source.onerror = () => {
      // CLOSED: the server refused the stream (404, or the route is missing): EventSource gives up.
      if (source.readyState === EventSource.CLOSED) setState(opened ? 'reconnecting' : 'unavailable');
      else setState('reconnecting');
    };
    for (const name of names.split(',').filter(Boolean)) {
      source.addEventListener(name, (event) => {
        let data: unknown;
        try {
          data = JSON.parse((event as MessageEvent<string>).data);
        } catch {
          return;
        }
        handlersRef.current[name]?.(data);
      });
    }
    return () => source.close();
  }, [url, names]);
  return state;
}

/** Calls `fn` at most once per `ms` (trailing call included), for refreshes driven by events. */
export function useThrottled(fn: () => void, ms: number): () => void {
  const fnRef = useRef(fn);
  fnRef.current = fn;
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const last = useRef(0);
  useEffect(() => () => clearTimeout(timer.current), []);
  return useCallback(() => {
    if (timer.current) return;
    const wait = Math.max(0, last.current + ms - Date.now());
    timer.current = setTimeout(() => {
      timer.current = undefined;
      last.current = Date.now();
      fnRef.current();
    }, wait);
  }, [ms]);
}

/** Re-renders every `ms` (for relative times such as "12 s ago"); no request is made. */
export function useNow(ms = 5000): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}

/** Whether a CSS media query matches, kept up to date (e.g. a narrow window). */
export function useMediaQuery(query: string): boolean {
  const [matches, setMatches] = useState(() => window.matchMedia(query).matches);
  useEffect(() => {
    const list = window.matchMedia(query);
    const update = () => setMatches(list.matches);
    update();
    list.addEventListener('change', update);
    return () => list.removeEventListener('change', update);
  }, [query]);
  return matches;
}
