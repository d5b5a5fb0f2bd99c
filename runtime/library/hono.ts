// A Hono middleware that puts the mesh's inbound side (RequestAuthentication, AuthorizationPolicy,
// metrics, trace context) in front of the app's routes: app.use(dietmeshMiddleware(mesh)). A request
// the policies refuse is answered by the mesh (401, 403) and never reaches the routes; one they
// admit runs the routes, and the mesh records their answer. The inbound chain is built once; each
// request finds its own `next` by the request object Hono handed in.
import type { MiddlewareHandler } from "hono";
import type { Mesh } from "./mesh.ts";

export function dietmeshMiddleware(mesh: Mesh): MiddlewareHandler {
  const routes = new WeakMap<object, () => Promise<Response>>();
  const guarded = mesh.serve((_request, caller) => routes.get(caller.received as object)!());
  return async (c, next) => {
    let ran = false;
    routes.set(c.req.raw, async () => {
      ran = true;
      await next();
      return c.res;
    });
    const response = await guarded(c.req.raw);
    routes.delete(c.req.raw);
    if (!ran) return response; // refused by the mesh
    c.res = response;
  };
}
