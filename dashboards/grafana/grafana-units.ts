/**
 * Every unit id Grafana 11.2.0 knows, in the order of getCategories() in
 * packages/grafana-data/src/valueFormats/categories.ts (as published in @grafana/data 11.2.0,
 * dist/esm/valueFormats/categories.js). Any other id is shown as literal text after the value. Non-ASCII
 * ids are escaped: Grafana spells µg/m³ with the Greek mu (U+03BC) but microfarad with the micro sign
 * (U+00B5).
 */
// biome-ignore format: a copied list, kept in Grafana's order and compact
export const GRAFANA_UNIT_IDS: ReadonlySet<string> = new Set([
  'none', 'string', 'short', 'sishort', 'percent', 'percentunit', 'humidity', 'dB', 'candela', 'hex0x',
  'hex', 'sci', 'locale', 'pixel', 'accMS2', 'accFS2', 'accG', 'degree', 'radian', 'grad', 'arcmin',
  'arcsec', 'areaM2', 'areaF2', 'areaMI2', 'acres', 'hectares', 'flops', 'mflops', 'gflops', 'tflops',
  'pflops', 'eflops', 'zflops', 'yflops', 'ppm', 'conppb', 'conngm3', 'conngNm3', 'con\u03bcgm3',
  'con\u03bcgNm3', 'conmgm3', 'conmgNm3', 'congm3', 'congNm3', 'conmgdL', 'conmmolL', 'currencyUSD',
  'currencyGBP', 'currencyEUR', 'currencyJPY', 'currencyRUB', 'currencyUAH', 'currencyBRL', 'currencyDKK',
  'currencyISK', 'currencyNOK', 'currencySEK', 'currencyCZK', 'currencyCHF', 'currencyPLN', 'currencyBTC',
  'currencymBTC', 'currency\u03bcBTC', 'currencyZAR', 'currencyINR', 'currencyKRW', 'currencyIDR',
  'currencyPHP', 'currencyVND', 'currencyTRY', 'currencyMYR', 'currencyXPF', 'currencyBGN', 'currencyPYG',
  'currencyUYU', 'bytes', 'decbytes', 'bits', 'decbits', 'kbytes', 'deckbytes', 'mbytes', 'decmbytes',
  'gbytes', 'decgbytes', 'tbytes', 'dectbytes', 'pbytes', 'decpbytes', 'pps', 'binBps', 'Bps', 'binbps',
  'bps', 'KiBs', 'Kibits', 'KBs', 'Kbits', 'MiBs', 'Mibits', 'MBs', 'Mbits', 'GiBs', 'Gibits', 'GBs',
  'Gbits', 'TiBs', 'Tibits', 'TBs', 'Tbits', 'PiBs', 'Pibits', 'PBs', 'Pbits', 'dateTimeAsIso',
  'dateTimeAsIsoNoDateIfToday', 'dateTimeAsUS', 'dateTimeAsUSNoDateIfToday', 'dateTimeAsLocal',
  'dateTimeAsLocalNoDateIfToday', 'dateTimeAsSystem', 'dateTimeFromNow', 'watt', 'kwatt', 'megwatt',
  'gwatt', 'mwatt', 'Wm2', 'voltamp', 'kvoltamp', 'voltampreact', 'kvoltampreact', 'watth', 'watthperkg',
  'kwatth', 'kwattm', 'mwatth', 'amph', 'kamph', 'mamph', 'joule', 'ev', 'amp', 'kamp', 'mamp', 'volt',
  'kvolt', 'mvolt', 'dBm', 'mohm', 'ohm', 'kohm', 'Mohm', 'farad', '\u00b5farad', 'nfarad', 'pfarad',
  'ffarad', 'henry', 'mhenry', '\u00b5henry', 'lumens', 'flowgpm', 'flowcms', 'flowcfs', 'flowcfm',
  'litreh', 'flowlpm', 'flowmlpm', 'lux', 'forceNm', 'forcekNm', 'forceN', 'forcekN', 'Hs', 'KHs', 'MHs',
  'GHs', 'THs', 'PHs', 'EHs', 'massmg', 'massg', 'masslb', 'masskg', 'masst', 'lengthmm', 'lengthin',
  'lengthft', 'lengthm', 'lengthkm', 'lengthmi', 'pressurembar', 'pressurebar', 'pressurekbar',
  'pressurepa', 'pressurehpa', 'pressurekpa', 'pressurehg', 'pressurepsi', 'radbq', 'radci', 'radgy',
  'radrad', 'radsv', 'radmsv', 'radusv', 'radrem', 'radexpckg', 'radr', 'radsvh', 'radmsvh', 'radusvh',
  'rotrpm', 'rothz', 'rotkhz', 'rotmhz', 'rotghz', 'rotrads', 'rotdegs', 'celsius', 'fahrenheit', 'kelvin',
  'hertz', 'ns', '\u00b5s', 'ms', 's', 'm', 'h', 'd', 'dtdurationms', 'dtdurations', 'dthms', 'dtdhms',
  'timeticks', 'clockms', 'clocks', 'cps', 'ops', 'reqps', 'rps', 'wps', 'iops', 'eps', 'mps', 'recps',
  'rowsps', 'cpm', 'opm', 'reqpm', 'rpm', 'wpm', 'epm', 'mpm', 'recpm', 'rowspm', 'velocityms',
  'velocitykmh', 'velocitymph', 'velocityknot', 'mlitre', 'litre', 'm3', 'Nm3', 'dm3', 'gallons', 'bool',
  'bool_yes_no', 'bool_on_off',
]);

/**
 * Custom units Grafana's getValueFormat() parses from the id itself (`suffix:mg/L`, `prefix:€`, `si:W`,
 * `count:veh`, `currency:CHF`, `time:YYYY`, `bool:on/off`).
 */
const CUSTOM_UNIT = /^(prefix|suffix|time|si|count|currency|bool):\S/;

/** True when Grafana renders this unit id as a unit (not as unknown literal text). */
export const isGrafanaUnit = (id: string): boolean => GRAFANA_UNIT_IDS.has(id) || CUSTOM_UNIT.test(id);
