// tests/browser/csp.html: the package's entry (dist/index.js) imported under the page's policy, the
// keys used, then an engine created; what happened goes to window.result.
import { QueryClient } from '@tanstack/query-core'

window.result = (async () => {
  const { createRealtime, docKey } = await import('/dist/index.js')
  const key = docKey('work_orders', 12)
  try {
    const rt = await createRealtime({ queryClient: new QueryClient() })
    rt.ingest('event', { type: 'work_orders', id: 12, action: 'update', version: 1 })
    rt.flush()
    const received = rt.stats().received
    rt.dispose()
    return { key, created: true, received }
  } catch (e) {
    return { key, created: false, error: `${e?.name}: ${e?.message}` }
  }
})()
