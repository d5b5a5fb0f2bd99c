// A timer that does not keep the process alive (the pool's idle sweep): Bun's timers are objects
// with unref(), Deno's are numbers handed to Deno.unrefTimer.
type Timer = ReturnType<typeof setTimeout>;

export function unrefTimer(timer: Timer): Timer {
  const t = timer as unknown as { unref?: () => void };
  if (typeof t.unref === "function") t.unref();
  else (globalThis as unknown as { Deno?: { unrefTimer(id: number): void } }).Deno?.unrefTimer(timer as unknown as number);
  return timer;
}
