import { createContext, useContext, useSyncExternalStore } from 'react';
import type { Api, LiveStatus } from './client';

export const ApiContext = createContext<Api | null>(null);

export function useLiveStatus(): LiveStatus {
  const api = useContext(ApiContext);
  if (!api) throw new Error('useLiveStatus outside a signed-in console');
  return useSyncExternalStore(api.live.subscribe, api.live.get);
}
