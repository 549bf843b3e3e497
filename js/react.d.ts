import type { ReactElement, ReactNode } from 'react'
import type { Realtime, RealtimeOptions, Status, View } from './index.js'

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
