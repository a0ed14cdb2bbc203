/**
 * For tests of the studio service: the events it emitted, kept in order, and a wait for the
 * first one of a kind for a job (polled: events are pushed synchronously by the service's emit).
 */
import type { EventName, StudioEvents } from '../../shared/contract';

export type EventLog = { event: EventName; payload: StudioEvents[EventName] }[];

export function waitForEvent(events: EventLog, pollMs: number, defaultTimeoutMs: number) {
  return <E extends EventName>(event: E, jobId: string, timeoutMs = defaultTimeoutMs): Promise<StudioEvents[E]> =>
    new Promise((resolve, reject) => {
      const started = performance.now();
      const timer = setInterval(() => {
        const hit = events.find((e) => e.event === event && (e.payload as { jobId: string }).jobId === jobId);
        if (hit) {
          clearInterval(timer);
          resolve(hit.payload as StudioEvents[E]);
        } else if (performance.now() - started > timeoutMs) {
          clearInterval(timer);
          reject(new Error(`no ${event} for ${jobId} within ${timeoutMs} ms`));
        }
      }, pollMs);
    });
}
