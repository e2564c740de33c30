// The route table records every registration on its way to the app and wraps each handler once;
// proven with a fake app standing in for uWS and with the server's real register functions.
import { describe, expect, it } from 'vitest';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { RouteTable, type RouteHandler } from '../src/route-table.js';
import { registerRoutes } from '../src/routes.js';
import type { QueryCache } from '../src/query-cache.js';
import type { ServerContext } from '../src/server-context.js';

/** A stand-in for uWS's app: keeps each (method, pattern, handler) it is given. */
function fakeApp(): { app: TemplatedApp; registered: { method: string; pattern: string; handler: RouteHandler }[] } {
  const registered: { method: string; pattern: string; handler: RouteHandler }[] = [];
  const app: Record<string, unknown> = { listen: () => app };
  for (const method of ['get', 'post', 'put', 'del', 'patch', 'options', 'head', 'any']) {
    app[method] = (pattern: string, handler: RouteHandler) => {
      registered.push({ method, pattern, handler });
      return app;
    };
  }
  return { app: app as unknown as TemplatedApp, registered };
}

describe('RouteTable', () => {
  it('records each registration in order, passes it on, and chains like the app', () => {
    const { app, registered } = fakeApp();
    const table = new RouteTable();
    const view = table.recording(app);
    const handler: RouteHandler = () => undefined;
    const chained = view.get('/a/:id', handler).post('/b', handler);
    expect(chained).toBe(view);
    expect(table.routes).toEqual([
      { method: 'get', pattern: '/a/:id' },
      { method: 'post', pattern: '/b' },
    ]);
    expect(registered.map(({ method, pattern }) => `${method} ${pattern}`)).toEqual(['get /a/:id', 'post /b']);
    expect(registered[0]?.handler).toBe(handler);
  });

  it('wraps each handler once at registration, innermost wrapper first', () => {
    const { app, registered } = fakeApp();
    const table = new RouteTable();
    const calls: string[] = [];
    let wrapped = 0;
    table.wrapHandlers((route, inner) => {
      wrapped += 1;
      return (res, req) => {
        calls.push(`outer ${route.pattern}`);
        inner(res, req);
      };
    });
    table.recording(app).get('/x', () => {
      calls.push('handler');
    });
    registered[0]?.handler({} as HttpResponse, {} as HttpRequest);
    registered[0]?.handler({} as HttpResponse, {} as HttpRequest);
    expect(wrapped).toBe(1);
    expect(calls).toEqual(['outer /x', 'handler', 'outer /x', 'handler']);
    expect(() => table.wrapHandlers((_, inner) => inner)).toThrow(/before any route/);
  });

  it("takes the server's whole route list without a running server", () => {
    const { app } = fakeApp();
    const table = new RouteTable();
    registerRoutes(table.recording(app), {} as ServerContext, null as unknown as QueryCache);
    const keys = table.routes.map(({ method, pattern }) => `${method} ${pattern}`);
    expect(keys).toContain('post /api/v1/write/msgpack');
    expect(keys).toContain('get /health');
    expect(keys.at(-1)).toBe('any /*');
    expect(new Set(keys).size).toBe(keys.length);
  });
});
