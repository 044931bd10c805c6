/**
 * Where a request says it comes from and is addressed to: the two checks
 * that go with the `X-Forwarded-For` check, before the token is looked at.
 *
 * - The authority (the `Host` header, or an absolute-form target's) must be
 *   `localhost`, `127.0.0.1` or `[::1]`, with or without a port. A web page
 *   whose name an attacker re-points at 127.0.0.1 (DNS rebinding) sends its
 *   own name, and so cannot read the agent's answers; nor can a client that
 *   reaches the agent through a plain TCP forwarder from another machine and
 *   names that machine.
 * - A proxy's headers (`X-Forwarded-For`, `Forwarded`, `X-Real-IP`) mean the
 *   request was relayed for someone else: refused on every listener, the Unix
 *   socket included, since a socket that trusts its file mode must not trust
 *   a proxy in front of it.
 *
 * @module
 */

/** A loopback name, any case, then an optional port (the URL parser bounds it). */
const LOCAL_AUTHORITY = /^(?:localhost|127\.0\.0\.1|\[::1\])(?::[0-9]{0,5})?$/i;
/** The headers proxies add: any of them marks a relayed request. */
export const FORWARDED_HEADERS: readonly string[] = Object.freeze([
  "x-forwarded-for",
  "forwarded",
  "x-real-ip",
]);

/**
 * Whether a request's URL (as `Deno.serve` builds it: `http://` + the Host
 * header or the absolute-form target's authority, + the path) names this
 * machine by a loopback name. Without a Host header `Deno.serve` fills in
 * `localhost:<port>` on TCP, which passes; on a Unix socket it fills in the
 * socket's path, which does not: the caller lets a Unix socket request
 * without a Host header through, as no browser sends one.
 *
 * @example
 * ```ts
 * isLocalAuthority("http://127.0.0.1:2773/ping"); // true
 * isLocalAuthority("http://evil.example:2773/v1/db"); // false
 * ```
 */
export function isLocalAuthority(url: string): boolean {
  const start = url.indexOf("://") + 3;
  const pathStart = url.indexOf("/", start);
  const authority = url.slice(start, pathStart < 0 ? url.length : pathStart);
  return LOCAL_AUTHORITY.test(authority);
}

/** Whether a proxy header is present (whatever its value, even empty). */
export function isForwarded(headers: Headers): boolean {
  for (const name of FORWARDED_HEADERS) {
    if (headers.has(name)) return true;
  }
  return false;
}
