/**
 * The real peer for an app's own refresh route: axios with axios-auth-refresh from npm, unmodified,
 * one axios instance per tab, set up as its README documents: a request interceptor that adds the
 * access token, and `createAuthRefresh(instance, refreshAuthLogic)`, whose logic calls the refresh
 * route with the global axios (the cookie flows) and puts the new token on the failed request, which
 * the library then retries. The access token lives in this tab's memory, as apps keep it; the
 * refresh cookie is the browser's, shared by every tab.
 *
 * A refresh answered 401 or 403 (`refresh_reused`, `session_ended`, `unauthenticated`) leaves the tab
 * signed out: an app sends the person to its sign-in page then, and this tab stops reading.
 */
import axios, { isAxiosError, type AxiosResponse } from 'axios';
import { createAuthRefresh } from 'axios-auth-refresh';
import type { EndpointContender, ReadOutcome } from './EndpointContender.ts';

interface TokenAnswer {
  access_token: string;
}

export function createAxiosAuthRefresh(): EndpointContender {
  let accessToken: string | null = null;
  let signedOut = false;
  const api = axios.create();
  api.interceptors.request.use((request) => {
    if (accessToken !== null) request.headers.Authorization = `Bearer ${accessToken}`;
    return request;
  });
  // biome-ignore lint/suspicious/noExplicitAny: axios-auth-refresh types the failed request as any
  const refreshAuthLogic = (failedRequest: any): Promise<void> =>
    axios.post<TokenAnswer>('/app/session/token').then(
      (answer: AxiosResponse<TokenAnswer>) => {
        accessToken = answer.data.access_token;
        failedRequest.response.config.headers.Authorization = `Bearer ${accessToken}`;
      },
      (error: unknown) => {
        const status = isAxiosError(error) ? error.response?.status : undefined;
        if (status === 401 || status === 403) signedOut = true;
        throw error;
      },
    );
  createAuthRefresh(api, refreshAuthLogic);

  const read = async (): Promise<ReadOutcome> => {
    let apiStatus: number;
    try {
      const response = await api.get('/app/api/me');
      apiStatus = response.status;
    } catch (error) {
      apiStatus = isAxiosError(error) ? (error.response?.status ?? 0) : 0;
    }
    return { tokens: accessToken === null ? [] : [accessToken], apiStatus };
  };
  return { ready: Promise.resolve(), read, signedOut: () => signedOut, close: () => undefined };
}
