// Hash routes, so the demo server only has to serve index.html:
//   #/work-orders, #/work-orders/<id>, #/burst, #/about
import { useSyncExternalStore } from 'react';

function parse() {
  const h = (typeof location === 'undefined' ? '' : location.hash).replace(/^#/, '') || '/work-orders';
  const parts = h.split('?')[0].split('/').filter(Boolean);
  if (parts[0] === 'burst') return { page: 'burst' };
  if (parts[0] === 'about') return { page: 'about' };
  return { page: 'work-orders', id: parts[1] ? decodeURIComponent(parts[1]) : null };
}

let current = parse();
const subs = new Set();
if (typeof window !== 'undefined') {
  window.addEventListener('hashchange', () => {
    current = parse();
    for (const s of subs) s();
  });
}

export function useRoute() {
  return useSyncExternalStore(
    (cb) => { subs.add(cb); return () => subs.delete(cb); },
    () => current,
  );
}

export function navigate(hash) {
  location.hash = hash;
}
