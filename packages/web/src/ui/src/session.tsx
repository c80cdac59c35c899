import { createContext } from 'preact';
import { useCallback, useContext, useEffect, useState } from 'preact/hooks';
import { api } from './api';
import type { Me } from './types';

interface Session {
  me: Me | undefined;
  refresh(): Promise<void>;
}

const SessionContext = createContext<Session>({ me: undefined, refresh: async () => {} });

/** Who is logged in, as `/api/v1/me` says; refreshed after logging in or out. */
export function SessionProvider({ children }: { children: preact.ComponentChildren }) {
  const [me, setMe] = useState<Me | undefined>(undefined);
  const refresh = useCallback(async () => {
    try {
      setMe(await api<Me>('me'));
    } catch {
      setMe({ user: null, authenticated: false });
    }
  }, []);
  useEffect(() => {
    void refresh();
  }, [refresh]);
  return <SessionContext.Provider value={{ me, refresh }}>{children}</SessionContext.Provider>;
}

export const useSession = (): Session => useContext(SessionContext);
