// Renewing a workload certificate before it runs out: at half its life, give or take some jitter
// so a fleet started together does not renew together; retrying with backoff when the CA is away;
// and saying so, loudly, every time a renewal fails and if the certificate expires anyway.
import type { Clock, TimerHandle } from "../lib/clock.ts";

export interface CertLifetime {
  notBefore: Date | number;
  notAfter: Date | number;
}

export type RenewalEvent =
  | { type: "scheduled"; at: number; notAfter: number }
  | { type: "renewed"; notBefore: number; notAfter: number }
  | { type: "renew-failed"; attempt: number; error: unknown; retryInMs: number; expiresInMs: number }
  | { type: "expired"; notAfter: number };

export interface RenewalOptions {
  clock: Clock;
  /** [0, 1); tests pass a seeded one */
  random?: () => number;
  /** fetches a new certificate and returns its window; throws when it can't */
  renew: () => Promise<CertLifetime>;
  /** where in the life to renew; Istio's SECRET_GRACE_PERIOD_RATIO is 0.5 */
  ratio?: number;
  /** ± this fraction of the life around `ratio` */
  jitter?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** log lines and metrics; by default failures and expiry go to stderr so they are never silent */
  onEvent?: (event: RenewalEvent) => void;
}

export const DEFAULT_RATIO = 0.5;
export const DEFAULT_JITTER = 0.1;
const DEFAULT_RETRY_BASE_MS = 1_000;
/** a minute between tries at most: a 24 h certificate renewed at ~12 h gets hundreds of tries */
const DEFAULT_RETRY_MAX_MS = 60_000;

export interface RenewalScheduler {
  /** the window of the certificate in use */
  readonly current: { notBefore: number; notAfter: number };
  stop(): void;
}

/** notBefore + life × (ratio ± jitter), kept inside the certificate's window */
export function renewalTime(cert: CertLifetime, random: number, ratio = DEFAULT_RATIO, jitter = DEFAULT_JITTER): number {
  const nb = +cert.notBefore;
  const life = +cert.notAfter - nb;
  const at = nb + life * (ratio + jitter * (2 * random - 1));
  return Math.min(Math.max(at, nb), +cert.notAfter);
}

export function startRenewal(initial: CertLifetime, options: RenewalOptions): RenewalScheduler {
  const { clock } = options;
  const random = options.random ?? Math.random;
  const emit = options.onEvent ?? logEvent;
  const retryBase = options.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
  const retryMax = options.retryMaxMs ?? DEFAULT_RETRY_MAX_MS;
  let current = { notBefore: +initial.notBefore, notAfter: +initial.notAfter };
  let renewTimer: TimerHandle | undefined;
  let expiryTimer: TimerHandle | undefined;
  let stopped = false;
  let attempt = 0;

  function schedule(): void {
    const at = renewalTime(current, random(), options.ratio, options.jitter);
    emit({ type: "scheduled", at, notAfter: current.notAfter });
    arm(at - clock.now());
    if (expiryTimer !== undefined) clock.clearTimeout(expiryTimer);
    const notAfter = current.notAfter;
    // fires only if no renewal replaced this certificate by its last valid moment
    expiryTimer = clock.setTimeout(() => {
      expiryTimer = undefined;
      if (!stopped) emit({ type: "expired", notAfter });
    }, notAfter - clock.now() + 1);
  }

  function arm(delayMs: number): void {
    if (renewTimer !== undefined) clock.clearTimeout(renewTimer);
    renewTimer = clock.setTimeout(() => void attemptRenewal(), Math.max(0, delayMs));
  }

  async function attemptRenewal(): Promise<void> {
    renewTimer = undefined;
    attempt++;
    try {
      const next = await options.renew();
      const fresh = { notBefore: +next.notBefore, notAfter: +next.notAfter };
      // a "new" certificate that is already dead would otherwise be renewed in a tight loop
      if (!(fresh.notAfter > clock.now())) throw new Error(`renewed certificate expired at ${new Date(fresh.notAfter).toISOString()}`);
      if (stopped) return;
      current = fresh;
      attempt = 0;
      emit({ type: "renewed", ...fresh });
      schedule();
    } catch (error) {
      if (stopped) return;
      const retryInMs = Math.min(retryMax, retryBase * 2 ** (attempt - 1));
      emit({ type: "renew-failed", attempt, error, retryInMs, expiresInMs: current.notAfter - clock.now() });
      arm(retryInMs);
    }
  }

  schedule();
  return {
    get current() {
      return current;
    },
    stop() {
      stopped = true;
      if (renewTimer !== undefined) clock.clearTimeout(renewTimer);
      if (expiryTimer !== undefined) clock.clearTimeout(expiryTimer);
    },
  };
}

/** the default sink: quiet when all is well, stderr when it is not */
function logEvent(event: RenewalEvent): void {
  if (event.type === "renew-failed") {
    console.error(`certificate renewal failed (attempt ${event.attempt}, expires in ${Math.round(event.expiresInMs / 1000)} s, retry in ${event.retryInMs} ms): ${(event.error as Error)?.message ?? event.error}`);
  } else if (event.type === "expired") {
    console.error(`workload certificate EXPIRED at ${new Date(event.notAfter).toISOString()}; peers will refuse it until renewal succeeds`);
  }
}
