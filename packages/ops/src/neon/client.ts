/**
 * The Neon API v2 client of `@repo/ops`: `@neondatabase/api-client` (a typed axios client) with the
 * API key kept in a `Secret`, 423/429 retried with exponential backoff, and every failure turned
 * into a {@link NeonApiError} that says which call failed, what Neon answered and what to do.
 *
 * Facts (Neon docs "Neon API key concepts"; the Neon API v2 OpenAPI spec; neonctl): base URL `https://console.neon.tech/api/v2`,
 * overridable with `NEON_API_HOST` (neonctl's convention); `Authorization: Bearer <key>`; errors are
 * `{ code, message, request_id? }` (`GeneralError`); `423 Locked` while conflicting operations run
 * and `429` over the rate limit (700/min, 40/s per route) are both "retry with backoff".
 *
 * The raw axios error is never kept or rethrown: its `config.headers` hold the bearer key.
 */
import { createApiClient, type Api } from "@neondatabase/api-client";
import pRetry, { AbortError } from "p-retry";
import { ConfigError, OpsError } from "../errors.ts";
import type { Secret } from "../secrets/secret.ts";

/** The generated Neon API v2 client type (`@neondatabase/api-client`). */
export type NeonApi = Api<unknown>;

/** Neon API v2 base URL used when `NEON_API_HOST` is not set (neonctl's default). */
export const DEFAULT_NEON_API_HOST = "https://console.neon.tech/api/v2";

/**
 * The Neon API base URL from `NEON_API_HOST` in `processEnv` (pass `OpsEnv.processEnv`), else
 * {@link DEFAULT_NEON_API_HOST}. A trailing `/` is dropped.
 * @throws {ConfigError} when the value is not an `https://` URL (plain `http://` is allowed for
 * loopback hosts only, so the API key never crosses a network unencrypted).
 */
export function neonApiHostFrom(processEnv: Readonly<Record<string, string | undefined>>): string {
  const raw = processEnv.NEON_API_HOST?.trim();
  if (raw === undefined || raw === "") return DEFAULT_NEON_API_HOST;
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`NEON_API_HOST="${raw}" is not a URL`, {
      where: "NEON_API_HOST",
      fix: `Unset it to use ${DEFAULT_NEON_API_HOST}, or set a full https:// URL.`,
    });
  }
  const loopback = /^(127(\.\d{1,3}){3}|localhost|\[::1\])$/.test(u.hostname);
  if (u.protocol !== "https:" && !(u.protocol === "http:" && loopback)) {
    throw new ConfigError(`NEON_API_HOST="${raw}" is not an https:// URL; the Neon API key would be sent unencrypted`, {
      where: "NEON_API_HOST",
      fix: `Unset it to use ${DEFAULT_NEON_API_HOST}, or use https:// (http:// is accepted for 127.0.0.1/localhost only).`,
    });
  }
  if (u.username || u.password || u.search || u.hash) {
    throw new ConfigError("NEON_API_HOST must be a plain base URL without credentials, query or fragment", {
      where: "NEON_API_HOST",
      fix: `Use the form ${DEFAULT_NEON_API_HOST}.`,
    });
  }
  return raw.replace(/\/+$/, "");
}

/** A retry the client is about to make. */
export interface NeonRetryInfo {
  /** `METHOD /path` of the call (no key, no host). */
  what: string;
  /** Failed attempts so far (1 on the first retry). */
  attempt: number;
  /** Wait before the next attempt, in milliseconds. */
  delayMs: number;
  /** Why: the HTTP status and Neon's message. */
  reason: string;
}

export interface NeonClientOptions {
  /** The Neon API key (`NEON_API_KEY`). Revealed only into the client's Authorization header. */
  apiKey: Secret;
  /** Base URL of the Neon API v2 (see {@link neonApiHostFrom}). @default DEFAULT_NEON_API_HOST */
  baseUrl?: string;
  /** Retries after a 423 or 429 (and, for GET only, a 5xx or network error). @default 5 */
  retries?: number;
  /** First backoff wait, in milliseconds; it doubles on each retry. @default 1000 */
  minRetryDelayMs?: number;
  /** Longest backoff wait, in milliseconds. @default 16000 */
  maxRetryDelayMs?: number;
  /** Timeout of one HTTP request, in milliseconds. @default 30000 */
  requestTimeoutMs?: number;
  /** Called before each retry, e.g. to emit a `retry` event. */
  onRetry?: (info: NeonRetryInfo) => void;
}

/** A Neon API v2 client. Obtain one with {@link createNeonClient}. */
export interface NeonClient {
  /** The base URL calls go to (no credentials in it). */
  readonly baseUrl: string;
  /**
   * Runs one API call, e.g. `client.call((api) => api.getProjectBranch(projectId, branchId))`, and returns the
   * response body. 423 and 429 are retried with exponential backoff; 5xx and network errors only
   * for GET (a POST may already have been applied). Other 4xx are never retried.
   * @throws {NeonApiError} when the call fails for good.
   */
  call<T>(request: (api: NeonApi) => Promise<{ data: T }>): Promise<T>;
}

/** A Neon API call that failed: HTTP status (or none when Neon was not reached) and Neon's `GeneralError`. */
export class NeonApiError extends OpsError {
  /** HTTP method, upper case. */
  readonly method: string;
  /** Request path below the base URL, e.g. `/projects/p/branches`. */
  readonly path: string;
  /** HTTP status, or `undefined` when no response arrived. */
  readonly status: number | undefined;
  /** `GeneralError.code` from the response body, when any. */
  readonly neonCode: string | undefined;
  /** `GeneralError.request_id`, for Neon support. */
  readonly requestId: string | undefined;
  constructor(
    message: string,
    info: {
      method: string;
      path: string;
      status: number | undefined;
      neonCode: string | undefined;
      requestId: string | undefined;
      fix: string;
    },
  ) {
    super("E_COMMAND", message, { where: `Neon API ${info.method} ${info.path}`, fix: info.fix });
    this.method = info.method;
    this.path = info.path;
    this.status = info.status;
    this.neonCode = info.neonCode;
    this.requestId = info.requestId;
  }
}

/** The parts of an axios error this module reads (axios is not a direct dependency). */
interface AxiosLikeError {
  isAxiosError: true;
  code?: string;
  message: string;
  config?: { method?: string; url?: string };
  response?: { status: number; statusText?: string; data?: unknown };
}

const isAxiosLike = (e: unknown): e is AxiosLikeError =>
  typeof e === "object" && e !== null && (e as { isAxiosError?: unknown }).isAxiosError === true;

const RETRY_ANY_METHOD = new Set([423, 429]);
const RETRY_GET_ONLY = new Set([500, 502, 503, 504]);

/**
 * Creates the Neon API client (`createApiClient({ apiKey, baseURL })` of `@neondatabase/api-client`)
 * wrapped by {@link NeonClient.call}. The key stays inside the client; nothing returned or thrown holds it.
 */
export function createNeonClient(opts: NeonClientOptions): NeonClient {
  const baseUrl = (opts.baseUrl ?? DEFAULT_NEON_API_HOST).replace(/\/+$/, "");
  const key = opts.apiKey.reveal();
  const api = createApiClient({
    apiKey: key,
    baseURL: baseUrl,
    timeout: opts.requestTimeoutMs ?? 30_000,
    headers: { Accept: "application/json" },
  });
  const retries = opts.retries ?? 5;
  const minDelayMs = opts.minRetryDelayMs ?? 1000;
  const maxDelayMs = opts.maxRetryDelayMs ?? 16_000;
  const scrub = (text: string) => (key === "" ? text : text.split(key).join("[REDACTED]"));

  return {
    baseUrl,
    async call<T>(request: (api: NeonApi) => Promise<{ data: T }>): Promise<T> {
      let attempts = 0;
      try {
        return await pRetry(
          async () => {
            attempts += 1;
            try {
              return (await request(api)).data;
            } catch (err) {
              if (!isAxiosLike(err)) throw new AbortError(err instanceof Error ? err : new Error(String(err)));
              if (!retryable(err)) throw new AbortError(err as unknown as Error);
              throw err;
            }
          },
          {
            retries,
            factor: 2,
            minTimeout: minDelayMs,
            maxTimeout: maxDelayMs,
            randomize: false,
            onFailedAttempt: (err) => {
              if (err.retriesLeft <= 0 || !isAxiosLike(err)) return;
              const { method, path } = describeRequest(err);
              opts.onRetry?.({
                what: `${method} ${path}`,
                attempt: err.attemptNumber,
                delayMs: Math.min(minDelayMs * 2 ** (err.attemptNumber - 1), maxDelayMs),
                reason: scrub(shortReason(err)),
              });
            },
          },
        );
      } catch (err) {
        if (!isAxiosLike(err)) throw err;
        throw toNeonApiError(err, attempts, baseUrl, scrub);
      }
    },
  };
}

function retryable(err: AxiosLikeError): boolean {
  const status = err.response?.status;
  if (status !== undefined && RETRY_ANY_METHOD.has(status)) return true;
  const isGet = (err.config?.method ?? "get").toLowerCase() === "get";
  if (!isGet) return false;
  if (status === undefined) return true;
  return RETRY_GET_ONLY.has(status);
}

function describeRequest(err: AxiosLikeError): { method: string; path: string } {
  const method = (err.config?.method ?? "GET").toUpperCase();
  let path = err.config?.url ?? "?";
  // The generated client passes a path relative to baseURL; strip any origin defensively.
  path = path.replace(/^[a-z]+:\/\/[^/]+/i, "").replace(/\?.*$/, "");
  return { method, path };
}

function generalError(data: unknown): { code?: string; message?: string; requestId?: string } {
  if (typeof data !== "object" || data === null) return {};
  const d = data as Record<string, unknown>;
  return {
    ...(typeof d.code === "string" && d.code !== "" ? { code: d.code } : {}),
    ...(typeof d.message === "string" && d.message !== "" ? { message: d.message } : {}),
    ...(typeof d.request_id === "string" ? { requestId: d.request_id } : {}),
  };
}

function shortReason(err: AxiosLikeError): string {
  const status = err.response?.status;
  if (status === undefined) return `no response (${err.code ?? err.message})`;
  const g = generalError(err.response?.data);
  const label =
    status === 423 ? "423 Locked: operations still running on the project" : status === 429 ? "429 Too Many Requests" : `HTTP ${status}`;
  return g.message ? `${label} (${g.message})` : label;
}

function fixFor(status: number | undefined, baseUrl: string): string {
  switch (status) {
    case undefined:
      return `Check the network and NEON_API_HOST (now ${baseUrl}); the call is safe to run again.`;
    case 401:
      return "NEON_API_KEY is missing, wrong or revoked: create an API key in the Neon console (account or organization settings → API keys) and set NEON_API_KEY.";
    case 403:
      return "The API key has no access to this project: use a key of the organization that owns it, or a project-scoped key for this project.";
    case 404:
      return "Check the Neon project id and branch ids in infra/fly/apps.env (neonctl projects list / neonctl branches list show them).";
    case 409:
      return "The request conflicts with the project's current state (a name already taken, a branch in use); read Neon's message and retry with another value.";
    case 423:
      return "Operations are still running on the project. Wait until `neonctl operations list` shows them finished, then run this again.";
    case 429:
      return "The Neon API rate limit (700 requests/min, 40/s per route) was hit. Wait a minute and run this again; check that nothing else polls the API in a loop.";
    default:
      if (status >= 500) return "Neon had an internal error. Check the Neon status page and run this again in a few minutes.";
      return "Neon refused the request; its message above says which field is wrong.";
  }
}

function toNeonApiError(err: AxiosLikeError, attempts: number, baseUrl: string, scrub: (s: string) => string): NeonApiError {
  const { method, path } = describeRequest(err);
  const status = err.response?.status;
  const g = generalError(err.response?.data);
  const parts: string[] = [];
  if (status === undefined) {
    parts.push(`Neon API ${method} ${path} failed: no response from ${baseUrl} (${err.code ?? err.message})`);
  } else {
    const text = err.response?.statusText ? ` ${err.response.statusText}` : "";
    const detail = [g.code, g.message].filter(Boolean).join(": ");
    parts.push(`Neon API ${method} ${path} failed: HTTP ${status}${text}${detail ? ` (${detail})` : ""}`);
  }
  if (attempts > 1) parts.push(`after ${attempts} attempts`);
  if (g.requestId) parts.push(`request_id ${g.requestId}`);
  return new NeonApiError(scrub(parts.join("; ")), {
    method,
    path,
    status,
    neonCode: g.code,
    requestId: g.requestId,
    fix: fixFor(status, baseUrl),
  });
}
