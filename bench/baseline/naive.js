// The naive per-event handler the seeds started from (seed 002, "Problem"): every realtime event
// immediately calls queryClient.invalidateQueries once per affected key. No window, no dedupe, no
// coalescing, no patching. It shares the baseline's payload mapping and routing so that the only
// difference measured is the missing coalescing.
import { adapt, compileRules, route, InvalidInput } from './core.js';

export function createNaiveHandler({ queryClient, rules = [], primaryKey = ['id', 'uuid', 'code'], scope = {} }) {
  const compiled = compileRules(rules);
  const scopeFactory = scope.factoryId ?? scope.factory_id;
  const stats = { received: 0, invalidateCalls: 0, invalid: 0 };
  const inv = (queryKey, exact, refetchType) => {
    stats.invalidateCalls++;
    queryClient.invalidateQueries({ queryKey, exact, refetchType });
  };
  return {
    stats,
    ingest(source, payload) {
      stats.received++;
      const ev = adapt(source, payload, primaryKey);
      if (ev instanceof InvalidInput) {
        stats.invalid++;
        return;
      }
      if (!ev.row) {
        inv(ev.key, ev.exact, ev.refetchType);
        return;
      }
      const f = ev.values && (ev.values.factory_id ?? ev.values.factoryId);
      if (scopeFactory !== undefined && f !== undefined && f !== null && f !== scopeFactory) return;
      route(ev, compiled, scopeFactory, false, inv, null);
    },
    ingestText(source, text) {
      this.ingest(source, JSON.parse(text));
    },
  };
}
