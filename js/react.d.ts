import type { ReactElement, ReactNode } from 'react'
import type { DefaultError, QueryClient, QueryKey, UseQueryOptions, UseQueryResult } from '@tanstack/react-query'
import type { DocKey, ListKey, Realtime, RealtimeOptions, Status, View } from './index.js'

export type { Realtime, RealtimeOptions, Status, View } from './index.js'

/**
 * Props of {@link RealtimeProvider}.
 * @example
 * const props: RealtimeProviderProps = { options: { queryClient }, children: null }
 */
export interface RealtimeProviderProps {
  /**
   * Read when the engine is created (once per `queryClient`); later changes to `scope` call
   * `setScope`, and the latest `onError` is always the one called.
   */
  options: RealtimeOptions
  children?: ReactNode
}

/**
 * Creates the engine for its subtree and disposes it on unmount. StrictMode's double mount
 * leaves one engine.
 * @example
 * <QueryClientProvider client={queryClient}>
 *   <RealtimeProvider options={{ queryClient, scope: { factoryId } }}>
 *     <App />
 *   </RealtimeProvider>
 * </QueryClientProvider>
 */
export function RealtimeProvider(props: RealtimeProviderProps): ReactElement

/**
 * The provider's engine, or null while the WebAssembly module loads (and during SSR).
 * @example
 * const rt = useRealtime()
 * useEffect(() => rt?.connectWebSocket('/ws'), [rt])
 */
export function useRealtime(): Realtime | null

/**
 * Keeps a view open while the component is mounted; re-subscribes when the view's kind, type or id
 * change. Pass null to open nothing.
 * @example
 * function WorkOrder({ id }: { id: number }) {
 *   useRealtimeSubscription({ kind: 'doc', type: 'work_orders', id })
 *   const { data } = useQuery({ queryKey: ['doc', 'work_orders', String(id)], queryFn: () => fetchWorkOrder(id) })
 *   return data?.title
 * }
 */
export function useRealtimeSubscription(view: View | null | undefined): void

/**
 * The engine's connection status, re-rendering on change; `'disconnected'` while loading.
 * @example
 * function Badge() {
 *   const status = useRealtimeStatus()
 *   return status === 'connected' ? 'live' : status
 * }
 */
export function useRealtimeStatus(): Status

/**
 * Options of {@link useRealtimeQuery}: `useQuery`'s options plus the `view` to keep open while
 * mounted; `queryKey` is optional and defaults to the view's key.
 * @example
 * const options: RealtimeQueryOptions<WorkOrder> = {
 *   view: { kind: 'doc', type: 'work_orders', id: 12 },
 *   queryFn: () => fetchWorkOrder(12),
 * }
 */
export type RealtimeQueryOptions<
  TQueryFnData = unknown,
  TError = DefaultError,
  TData = TQueryFnData,
  TQueryKey extends QueryKey = QueryKey,
> = Omit<UseQueryOptions<TQueryFnData, TError, TData, TQueryKey>, 'queryKey'> & {
  /** The view subscribed while the component is mounted; null subscribes nothing (then pass a queryKey). */
  view: View | null | undefined
  /** Default: `docKey(type, id)` for a doc view, `listKey(type, factoryId)` (the list head) for a list view. */
  queryKey?: TQueryKey
}

/**
 * `useQuery` with its own realtime view: the view is subscribed while the component is mounted
 * (reference counted, so StrictMode's double mount and two components on one view open one
 * channel) and `queryKey` defaults to the view's key. Returns what `useQuery` returns.
 * @example
 * function WorkOrder({ id }: { id: number }) {
 *   const { data } = useRealtimeQuery({
 *     view: { kind: 'doc', type: 'work_orders', id },
 *     queryFn: () => fetchWorkOrder(id),
 *   })
 *   return <h1>{data?.title}</h1>
 * }
 */
export function useRealtimeQuery<
  TQueryFnData = unknown,
  TError = DefaultError,
  TData = TQueryFnData,
  const T extends string = string,
>(
  options: Omit<RealtimeQueryOptions<TQueryFnData, TError, TData, DocKey<T>>, 'view' | 'queryKey'> & {
    view: { kind: 'doc'; type: T; id: string | number }
    queryKey?: undefined
  },
  queryClient?: QueryClient,
): UseQueryResult<TData, TError>
export function useRealtimeQuery<
  TQueryFnData = unknown,
  TError = DefaultError,
  TData = TQueryFnData,
  const T extends string = string,
>(
  options: Omit<RealtimeQueryOptions<TQueryFnData, TError, TData, ListKey<T> | readonly ['list', T]>, 'view' | 'queryKey'> & {
    view: { kind: 'list'; type: T }
    queryKey?: undefined
  },
  queryClient?: QueryClient,
): UseQueryResult<TData, TError>
export function useRealtimeQuery<
  TQueryFnData = unknown,
  TError = DefaultError,
  TData = TQueryFnData,
  const TQueryKey extends QueryKey = QueryKey,
>(
  options: RealtimeQueryOptions<TQueryFnData, TError, TData, TQueryKey> & { queryKey: TQueryKey },
  queryClient?: QueryClient,
): UseQueryResult<TData, TError>
