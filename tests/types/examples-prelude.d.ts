// What the documentation's examples assume the app already has (tests/types/readme.mjs).
import type { QueryClient } from '@tanstack/react-query'
import type { SupabaseClient } from '@supabase/supabase-js'
import type { Centrifuge } from 'centrifuge'
import type { Realtime } from 'querywire'

declare global {
  interface WorkOrder { id: number; factory_id: string; title: string; status: string; qty: number; version: number }
  interface Page<T> { items: T[]; page: number; pageSize: number; total: number }
  function getJwt(): Promise<string>
  function fetchWorkOrder(id: number | string): Promise<WorkOrder>
  function fetchWorkOrders(factoryId: string, page: number): Promise<Page<WorkOrder>>
  function saveWorkOrder(patch: Partial<WorkOrder> & { id: number }): Promise<WorkOrder>
  const queryClient: QueryClient
  const rt: Realtime
  const supabase: SupabaseClient
  const centrifuge: Centrifuge
}
export {}
