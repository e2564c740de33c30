import assert from 'node:assert/strict';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';

/** The HTTP methods uWS registers by name (`del` is DELETE, `any` every method). */
export const ROUTE_METHODS = ['get', 'post', 'put', 'del', 'patch', 'options', 'head', 'any'] as const;
export type RouteMethod = (typeof ROUTE_METHODS)[number];

/** One registration: the method and uWS's pattern (`:name` parameters, a trailing `/*`). */
export interface RegisteredRoute {
  readonly method: RouteMethod;
  readonly pattern: string;
}

export type RouteHandler = (res: HttpResponse, req: HttpRequest) => void;

/**
 * Wraps each handler at registration (e.g. to count and time the request under its route): called
 * once per route, so the wrapper's per-route state (a label, a counter) is built once, not per request.
 */
export type HandlerWrapper = (route: RegisteredRoute, handler: RouteHandler) => RouteHandler;

const ROUTE_METHOD_SET: ReadonlySet<string> = new Set(ROUTE_METHODS);

/**
 * Every route the server registers, in order, recorded on the way to uWS: the one list the API
 * description is checked against (every route documented, every documented route registered) and
 * the place request metrics attach to each handler. The register functions keep calling
 * `app.get(...)`; they get this table's view of the app instead of the app itself.
 */
export class RouteTable {
  readonly #routes: RegisteredRoute[] = [];
  readonly #wrappers: HandlerWrapper[] = [];

  get routes(): readonly RegisteredRoute[] {
    return this.#routes;
  }

  /** Applies to the routes registered after this call; add wrappers before registering. */
  wrapHandlers(wrapper: HandlerWrapper): void {
    assert.equal(this.#routes.length, 0, 'handler wrappers are added before any route is registered');
    this.#wrappers.push(wrapper);
  }

  /** `app` as the register functions see it: the same object, with each registration recorded. */
  recording(app: TemplatedApp): TemplatedApp {
    return new Proxy(app, {
      get: (target, property, receiver) => {
        const value: unknown = Reflect.get(target, property, receiver);
        if (typeof property !== 'string' || !ROUTE_METHOD_SET.has(property) || typeof value !== 'function') return value;
        const method = property as RouteMethod;
        return (pattern: string, handler: RouteHandler): TemplatedApp => {
          const route: RegisteredRoute = { method, pattern };
          this.#routes.push(route);
          const wrapped = this.#wrappers.reduce((inner, wrap) => wrap(route, inner), handler);
          (value as (pattern: string, handler: RouteHandler) => unknown).call(target, pattern, wrapped);
          return receiver as TemplatedApp;
        };
      },
    });
  }
}
