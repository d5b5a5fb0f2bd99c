// Process log lines: one line per event on stderr, prefixed with the component, off the request path.
export function createLogger(component: string): (message: string) => void {
  return (message) => console.error(`${new Date().toISOString()} dietmesh ${component}: ${message}`);
}
