import { ApolloProvider } from '@apollo/client/react';
import { useCallback, useEffect, useRef, useState } from 'react';
import { createApi, type Api } from './api/client';
import { ApiContext } from './api/context';
import { navigate } from './router';
import { Routes } from './Routes';
import { clearToken, readToken, saveToken } from './session';
import { SignIn } from './SignIn';

/** Signed out: the sign-in form. Signed in: one API client for the token, and the screens. */
export function App() {
  const current = useRef<Api | null>(null);
  const [api, setApi] = useState<Api | null>(null);
  const [ended, setEnded] = useState(false);

  const signOut = useCallback((sessionEnded: boolean) => {
    clearToken();
    current.current?.dispose();
    current.current = null;
    setApi(null);
    setEnded(sessionEnded);
  }, []);

  // A client whose token the server stops accepting ends the session, but only if it is still the current one.
  const connect = useCallback(
    (token: string): Api => {
      const created: Api = createApi(token, () => {
        if (current.current === created) signOut(true);
      });
      return created;
    },
    [signOut],
  );

  const adopt = useCallback((created: Api) => {
    current.current = created;
    setApi(created);
    setEnded(false);
  }, []);

  useEffect(() => {
    const token = readToken();
    if (token) adopt(connect(token));
    return () => current.current?.dispose();
  }, [adopt, connect]);

  if (!api) {
    return (
      <SignIn
        connect={connect}
        ended={ended}
        onSignedIn={(created, token) => {
          saveToken(token);
          adopt(created);
          if (location.pathname === '/') navigate('/', { replace: true });
        }}
      />
    );
  }
  return (
    <ApolloProvider client={api.apollo}>
      <ApiContext.Provider value={api}>
        <Routes onSignOut={() => signOut(false)} />
      </ApiContext.Provider>
    </ApolloProvider>
  );
}
