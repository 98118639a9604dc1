// @ts-check
// Form fields shared by the provisioning form and the device editor: the attributes a kind declares
// (typed, required ones marked), a location, and instants typed in the browser's time zone.

import { el } from '../dom.js';

/**
 * @typedef {{ type: 'number' | 'string' | 'boolean', description: string, unit?: string, required?: boolean }} AttributeSpec
 * @typedef {{ id: string, name: string, attributes?: Record<string, AttributeSpec>,
 *   metrics?: Array<{ name: string, unit: string, min: number, max: number }> }} Kind
 * @typedef {string | number | boolean} AttributeValue
 */

/**
 * One input per attribute of the kind, filled with the current values.
 * @param {Kind | undefined} kind
 * @param {Record<string, AttributeValue>} [current]
 * @returns {HTMLElement}
 */
export function attributeFields(kind, current = {}) {
  const specs = Object.entries(kind?.attributes ?? {});
  if (specs.length === 0)
    return el('p', { class: 'small muted attribute-fields' }, 'This kind has no attributes.');
  return el(
    'div',
    { class: 'attribute-fields' },
    ...specs.map(([name, spec]) => {
      const value = current[name];
      const input =
        spec.type === 'boolean'
          ? el(
              'select',
              { name: `attr.${name}`, 'data-type': 'boolean' },
              el('option', { value: '' }, '–'),
              el('option', { value: 'true', selected: value === true }, 'yes'),
              el('option', { value: 'false', selected: value === false }, 'no'),
            )
          : el('input', {
              name: `attr.${name}`,
              'data-type': spec.type,
              type: spec.type === 'number' ? 'number' : 'text',
              step: spec.type === 'number' ? 'any' : undefined,
              required: spec.required,
              value: value === undefined ? '' : String(value),
            });
      return el(
        'label',
        { title: spec.description },
        `${name}${spec.unit ? ` (${spec.unit})` : ''}${spec.required ? ' *' : ''}`,
        input,
      );
    }),
  );
}

/**
 * The attributes as typed values; an emptied field is null (the API removes it), an untouched empty one
 * is left out.
 * @param {HTMLElement} root
 * @param {Record<string, AttributeValue>} [current]
 * @returns {Record<string, AttributeValue | null>}
 */
export function readAttributes(root, current = {}) {
  /** @type {Record<string, AttributeValue | null>} */
  const out = {};
  for (const input of root.querySelectorAll('[name^="attr."]')) {
    const field = /** @type {HTMLInputElement} */ (input);
    const name = field.name.slice('attr.'.length);
    const raw = field.value.trim();
    if (raw === '') {
      if (name in current) out[name] = null;
      continue;
    }
    const type = field.dataset.type;
    out[name] = type === 'number' ? Number(raw) : type === 'boolean' ? raw === 'true' : raw;
  }
  return out;
}

/**
 * @param {{ lat: number, lon: number } | null | undefined} location
 * @returns {[HTMLElement, HTMLElement]}
 */
export function locationFields(location) {
  const lat = el('input', {
    name: 'lat',
    type: 'number',
    step: 'any',
    min: -90,
    max: 90,
    value: location?.lat ?? '',
  });
  const lon = el('input', {
    name: 'lon',
    type: 'number',
    step: 'any',
    min: -180,
    max: 180,
    value: location?.lon ?? '',
  });
  return [el('label', null, 'latitude', lat), el('label', null, 'longitude', lon)];
}

/**
 * The location typed, null when both are empty, an error text when only one is.
 * @param {HTMLFormElement} form
 * @returns {{ lat: number, lon: number } | null | string}
 */
export function readLocation(form) {
  const lat = /** @type {HTMLInputElement} */ (form.elements.namedItem('lat')).value.trim();
  const lon = /** @type {HTMLInputElement} */ (form.elements.namedItem('lon')).value.trim();
  if (lat === '' && lon === '') return null;
  if (lat === '' || lon === '') return 'give both latitude and longitude, or neither';
  return { lat: Number(lat), lon: Number(lon) };
}

/**
 * `YYYY-MM-DDTHH:mm` in the browser's zone for a datetime-local input.
 * @param {number | string | null | undefined} instant epoch ms or ISO
 */
export function localInput(instant) {
  if (instant === null || instant === undefined) return '';
  const d = new Date(instant);
  const pad = (/** @type {number} */ n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/**
 * A datetime-local value (the browser's zone) as an ISO instant with its offset, or undefined when empty.
 * @param {string} value
 */
export function isoFromLocal(value) {
  return value ? new Date(value).toISOString() : undefined;
}
