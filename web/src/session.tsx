import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { api, type Me, setCsrfToken } from './api';

export interface Session {
  me: Me;
  setMe(me: Me): void;
}

export const SessionContext = createContext<Session>({
  me: { name: 'anonymous', authenticated: false, admin: false, groups: [] },
  setMe: () => {},
});

export const useSession = () => useContext(SessionContext);

export async function loadMe(): Promise<Me> {
  const me = await api<Me>('GET', '/me');
  setCsrfToken(me.csrfToken);
  return me;
}

export async function signIn(user: string, password: string): Promise<Me> {
  const me = await api<Me>('POST', '/session', { user, password });
  setCsrfToken(me.csrfToken);
  return { ...me, authenticated: true };
}

export async function signOut(): Promise<void> {
  try {
    await api('DELETE', '/session');
  } finally {
    setCsrfToken(undefined);
  }
}
