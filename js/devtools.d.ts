import type { ReactElement } from 'react'
import type { Realtime, Status, Trace } from './index.js'

export { replayTrace, type ReplayResult } from './replay.js'

/**
 * Props of {@link QuerywireDevtools}; all optional.
 * @example
 * const props: QuerywireDevtoolsProps = { initialIsOpen: true, position: 'bottom-left' }
 */
export interface QuerywireDevtoolsProps {
  /** Open the panel at first render. Default false: only the toggle button shows. */
  initialIsOpen?: boolean
  /** Where the toggle button sits. Default `'bottom-right'`. */
  position?: 'bottom-right' | 'bottom-left' | 'top-right' | 'top-left'
  /** Records kept (the oldest go first; an exported trace then says `truncated: true`). Default 10,000. */
  maxRecords?: number
  /** The engine to inspect. Default: the one of the enclosing `<RealtimeProvider>`. */
  rt?: Realtime | null
  /** Called with the trace when "Export trace" is pressed (the panel also downloads it as JSON). */
  onExport?: (trace: Trace & { truncated: boolean }) => void
}

/**
 * The querywire devtools panel, in the style of React Query Devtools: a toggle button, closed by
 * default, that opens a panel with the connection status over time, the channels with their last
 * `seq`, the event stream (filterable), each flush with its keys and the refetches it caused,
 * refetches saved, drops by reason, a timeline chart, and "Export trace". It records from its
 * first render, open or not.
 * @example
 * import { QuerywireDevtools } from 'querywire/devtools'
 *
 * <RealtimeProvider options={{ queryClient }}>
 *   <App />
 *   <QuerywireDevtools />
 * </RealtimeProvider>
 */
export function QuerywireDevtools(props?: QuerywireDevtoolsProps): ReactElement

/**
 * What a trace says, as the panel shows it.
 * @example
 * const s: TraceSummary = summarizeTrace(trace)
 * console.log(`${s.flushes.length} flushes, ${s.refetches} refetches, ${s.saved} saved`)
 */
export interface TraceSummary {
  t0: number
  t1: number
  status: { t: number; status: Status }[]
  channels: { name: string; open: boolean; lastSeq: number | null; events: number }[]
  events: { t: number; via: 'ingest' | 'frame' | 'control'; source: string; channel?: string; seq?: number; text: string; raw: string }[]
  flushes: {
    t: number
    keys: { op: 'invalidate' | 'patch' | 'refetch'; hash: string; detail: string }[]
    /** Query hashes whose fetch the flush started. */
    refetched: string[]
    applied: { invalidations: number; patches: number }
    /** Distinct events (received − duplicates dropped) since the previous flush. */
    events: number
    /** `events - refetched.length`, at least 0: what a handler refetching once per change would have cost more. */
    saved: number
    /** Keys pending mutations held: the flush left their queries alone (optimistic updates). */
    hold: string[]
  }[]
  /** Mutations pending at the end of the trace whose keys hold realtime operations back. */
  mutations: { id: number; t: number; keys: string[] }[]
  errors: { t: number; code: string; message: string; source: string }[]
  /** Refetches the flushes started, in all. */
  refetches: number
  /** Sum of the flushes' `saved`. */
  saved: number
  /** Sum of the flushes' `events`. */
  eventsIn: number
}

/**
 * Summarises a trace (in Node too), the way the panel does.
 * @example
 * const { flushes } = summarizeTrace(trace)
 */
export function summarizeTrace(trace: Pick<Trace, 'records'>): TraceSummary
