import { describe, expect, it } from 'vitest';
import { KindCatalogue } from './kind-catalogue.ts';
import { PROVISION_SHEET_MAX_ROWS, parseProvisionSheet } from './provision-sheet.ts';

const kinds = new KindCatalogue();
const parse = (text: string) => parseProvisionSheet(Buffer.from(text), (id) => kinds.get(id));

describe('parseProvisionSheet', () => {
  it('reads typed columns, attributes by the kind and a bare date as midnight UTC', () => {
    const result = parse(
      [
        '\uFEFFkind,district,id,name,lat,lon,installedAt,attributes.customersServed',
        'electricity-feeder-meter,Harbour,feeder-1,Feeder 1,"51,5",-0.12,2026-01-01,1200',
        '# a note',
        '',
        'air-quality-station,Old Town,,,,,,',
      ].join('\n'),
    );
    expect(result.errors).toEqual([]);
    expect(result.rows).toEqual([
      {
        row: 2,
        input: {
          kind: 'electricity-feeder-meter',
          district: 'Harbour',
          id: 'feeder-1',
          name: 'Feeder 1',
          location: { lat: 51.5, lon: -0.12 },
          installedAt: '2026-01-01T00:00:00Z',
          attributes: { customersServed: 1200 },
        },
      },
      // the comment and the blank line count as rows, as a spreadsheet shows them
      { row: 5, input: { kind: 'air-quality-station', district: 'Old Town' } },
    ]);
  });

  it('takes semicolons, as Excel saves CSV in many European locales', () => {
    const result = parse('kind;district\nnoise-monitor;Riverside\n');
    expect(result.rows).toEqual([{ row: 2, input: { kind: 'noise-monitor', district: 'Riverside' } }]);
  });

  it.each([
    ['an unknown kind', 'toaster,Harbour,,,', 'kind', 'DEVICES_UNKNOWN_KIND'],
    ['no district', 'noise-monitor,,,,', 'district', 'API_VALIDATION'],
    ['a bad id', 'noise-monitor,Harbour,Bad Id!,,', 'id', 'API_VALIDATION'],
    ['a latitude out of range', 'noise-monitor,Harbour,,95,0', 'lat', 'API_VALIDATION'],
    ['a longitude without latitude', 'noise-monitor,Harbour,,,7', 'lat', 'API_VALIDATION'],
    ['a longitude that is not a number', 'noise-monitor,Harbour,,1,east', 'lon', 'API_VALIDATION'],
  ])('reports %s by row and column', (_name, line, column, code) => {
    const result = parse(`kind,district,id,lat,lon\nnoise-monitor,Harbour,,,\n${line}\n`);
    expect(result.rows.map((r) => r.row)).toEqual([2]);
    expect(result.errors.map((e) => [e.row, e.column, e.code])).toEqual([[3, column, code]]);
  });

  it('checks attributes against the kind: undeclared, mistyped', () => {
    const result = parse(
      'kind,district,attributes.customersServed,attributes.colour\n' +
        'electricity-feeder-meter,Harbour,many,\n' +
        'noise-monitor,Harbour,,blue\n',
    );
    expect(result.rows).toEqual([]);
    expect(result.errors.map((e) => [e.row, e.column])).toEqual([
      [2, 'attributes.customersServed'],
      [3, 'attributes.colour'],
    ]);
  });

  it('refuses the whole file on a bad header, naming the column', () => {
    const result = parse('kind,district,attributes.__proto__,colour\nnoise-monitor,Harbour,x,y\n');
    expect(result.rows).toEqual([]);
    expect(result.errors.map((e) => [e.row, e.column, e.code])).toEqual([
      [1, 'attributes.__proto__', 'COLUMN_UNKNOWN'],
      [1, 'colour', 'COLUMN_UNKNOWN'],
    ]);
    expect(parse('kind,name\nnoise-monitor,x\n').errors.map((e) => [e.column, e.code])).toEqual([
      ['district', 'COLUMN_MISSING'],
    ]);
  });

  it('refuses a file that is not UTF-8, is empty, or has too many rows', () => {
    expect(parseProvisionSheet(Buffer.from([0x6b, 0xff, 0xfe]), () => undefined).errors[0]?.code).toBe(
      'FILE_ENCODING',
    );
    expect(parse('kind,district\n').errors[0]?.code).toBe('FILE_EMPTY');
    const many = `kind,district\n${'noise-monitor,Harbour\n'.repeat(PROVISION_SHEET_MAX_ROWS + 5)}`;
    expect(parse(many).errors).toMatchObject([
      { row: PROVISION_SHEET_MAX_ROWS + 2, code: 'FILE_TOO_MANY_ROWS' },
    ]);
  });
});
