import type { ModelContext } from './model-context.ts';
import { clamp, jitter } from './model-context.ts';

/**
 * Stop display heartbeat: updates shown per interval. During service hours (05:00–24:00) the display
 * refreshes predictions every 10–20 s; overnight it still sends one keep-alive per interval, so "live"
 * can be told from "dead" at any hour.
 */
export function transitStopDisplay(ctx: ModelContext): Record<string, number> {
  const hour = ctx.local.hour;
  const inService = hour >= 5;
  const perMinute = inService ? 4 * jitter(ctx, 71, 0.2) : 0;
  const updates = Math.max(1, Math.round((perMinute * ctx.intervalSec) / 60));
  return { heartbeat: clamp(updates, 0, 10_000) };
}
