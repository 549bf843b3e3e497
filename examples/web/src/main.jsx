import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { RealtimeProvider } from 'querywire/react';
import { App } from './App.jsx';
import { engineTuning, initialFactory, share, source } from './config.js';
import { counters } from './counters.js';
import './styles.css';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      // Realtime events (or querywire's polling) keep data fresh; no refetch on focus.
      refetchOnWindowFocus: false,
      retry: (count, err) => err?.status !== 404 && count < 1,
    },
  },
});

// One options object for the life of the page: the provider creates the engine from it once.
// Changing the source reloads the page; changing the factory calls rt.setScope().
const realtimeOptions = {
  queryClient,
  scope: { factoryId: initialFactory },
  patch: true,
  ...(engineTuning ?? {}),
  ...(source === 'poll' ? { enabled: false } : {}),
  // Tabs on the same source share one connection (the server's count shows in the header).
  ...(share ? { shareConnection: { name: `demo-${source}` } } : {}),
  onError: (e) => { counters.error(e); window.__querywireDemo?.errors.push(e); },
};

if (typeof window !== 'undefined') window.__querywireDemo = { queryClient, source, errors: [] };

createRoot(document.getElementById('root')).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RealtimeProvider options={realtimeOptions}>
        <App />
      </RealtimeProvider>
    </QueryClientProvider>
  </StrictMode>,
);
