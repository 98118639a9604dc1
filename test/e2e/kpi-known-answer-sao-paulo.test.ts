import { it } from 'vitest';
import { KNOWN_ANSWER_TIMEOUT_MS, runKnownAnswerCity } from './kpi-known-answer-run.ts';

// America/Sao_Paulo, October 2026 (no DST since 2019: 744 hours)
it(
  'known-answer city: every sensor-derived KPI to 0.1 %, month close, one restatement for late data',
  () => runKnownAnswerCity({ zone: 'America/Sao_Paulo', label: '2026-10', seed: 37, hours: 744 }),
  KNOWN_ANSWER_TIMEOUT_MS,
);
