import { it } from 'vitest';
import { KNOWN_ANSWER_TIMEOUT_MS, runKnownAnswerCity } from './kpi-known-answer-run.ts';

// America/Santiago, April 2026 (clocks back at midnight on the 5th: 721 hours)
it(
  'known-answer city: every sensor-derived KPI to 0.1 %, month close, one restatement for late data',
  () => runKnownAnswerCity({ zone: 'America/Santiago', label: '2026-04', seed: 23, hours: 721 }),
  KNOWN_ANSWER_TIMEOUT_MS,
);
