// api.js: the REST client of the dashboard. Every call goes to the same origin under /api/v1 and
// unwraps the standard envelope {success, statusCode, message, data}. A failure becomes an
// ApiError whose message is the server's `message`, so the UI can show it as is.

const BASE = '/api/v1';

/** ApiError is a refused or failed REST call; status is 0 for network failures. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
}

/**
 * createApi returns the REST calls the dashboard makes.
 * getToken supplies the bearer token; onUnauthorized is called on a 401 from an authenticated call.
 */
export function createApi({ getToken, onUnauthorized = () => {} }) {
  async function request(method, path, body, { base = BASE, raw = false } = {}) {
    const headers = { Accept: 'application/json' };
    const token = getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await fetch(base + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (err) {
      throw new ApiError(0, `Network error: cannot reach the server (${err.message})`);
    }
    let json = null;
    const text = await res.text();
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
    }
    if (!res.ok || (json && json.success === false)) {
      const msg = (json && json.message) || `${res.status} ${res.statusText || 'request failed'}`;
      if (res.status === 401 && token) onUnauthorized(msg);
      throw new ApiError(res.status, msg, json);
    }
    if (raw) return json;
    return json ? json.data : undefined;
  }

  return {
    login: (email, password) => request('POST', '/auth/login', { email, password }),
    logout: () => request('POST', '/auth/logout', {}),
    listOrders: () => request('GET', '/orders'),
    getOrder: (id) => request('GET', `/orders/${encodeURIComponent(id)}`),
    accept: (id) => request('POST', `/orders/${encodeURIComponent(id)}/accept`),
    reject: (id, reason) => request('POST', `/orders/${encodeURIComponent(id)}/reject`, { reason }),
    assign: (id, deliveryAgentId) =>
      request('PATCH', `/orders/${encodeURIComponent(id)}/assign-delivery`, { deliveryAgentId }),
    listAgents: () => request('GET', '/users/delivery-agents/all'),
    // fresh skips the server's brief cache (the app's pull-to-refresh parameter).
    overview: (fresh) => request('GET', `/dashboard/overview${fresh ? `?refresh=${Date.now()}` : ''}`),
    // GET /presence is the gateways' (admin token), outside /api/v1 and its envelope.
    presence: () => request('GET', '/presence', undefined, { base: '', raw: true }),
    getBusiness: () => request('GET', '/business/status'),
    setBusiness: (isOpen, message) =>
      request('PATCH', '/business/status', message ? { isOpen, message } : { isOpen }),
  };
}
