import { it } from 'vitest';
import { KNOWN_ANSWER_TIMEOUT_MS, runKnownAnswerCity } from './kpi-known-answer-run.ts';

// Europe/Paris, March 2026 (clocks forward on the 29th: 743 hours)
it(
  'known-answer city: every sensor-derived KPI to 0.1 %, month close, one restatement for late data',
  () => runKnownAnswerCity({ zone: 'Europe/Paris', label: '2026-03', seed: 11, hours: 743 }),
  KNOWN_ANSWER_TIMEOUT_MS,
);
