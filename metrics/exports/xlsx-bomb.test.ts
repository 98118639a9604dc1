import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { lieAboutSizes, zipOf } from '../../test/helpers/zip-bomb.ts';
import { MANUAL_SHEET_MAX_UNZIPPED_BYTES, parseManualSheet } from './manual-sheet.ts';
import { parseManualSheetOffThread } from './parse-sheet-off-thread.ts';
import { checkXlsxArchive } from './xlsx-archive-guard.ts';

async function workbook(rows: number): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('values');
  ws.addRow(['code', 'data_point', 'period', 'value', 'unit', 'data_quality', 'source', 'evidence']);
  for (let i = 0; i < rows; i++)
    ws.addRow(['EC-I-WS-1C', null, String(1000 + i), 50, '%', 'survey', 'src', null]);
  return Buffer.from(await wb.xlsx.writeBuffer());
}

const limits = { maxUnzippedBytes: MANUAL_SHEET_MAX_UNZIPPED_BYTES, maxEntries: 500 };

describe('XLSX zip bombs', () => {
  it('an archive that declares more than the limit is refused before anything is inflated', async () => {
    const bomb = await zipOf([{ name: 'xl/worksheets/sheet1.xml', bytes: 96 * 1024 * 1024 }]);
    expect(bomb.length).toBeLessThan(1024 * 1024);
    const check = await checkXlsxArchive(bomb, limits);
    expect(check).toMatchObject({ ok: false, reason: 'too-large' });
    const heapBefore = process.memoryUsage().heapUsed;
    const parsed = await parseManualSheet(bomb, 'xlsx');
    expect(parsed.rows).toEqual([]);
    expect(parsed.errors).toEqual([
      { row: 0, column: '', code: 'FILE_TOO_LARGE', message: 'the workbook unzips to more than 32 MB' },
    ]);
    expect(process.memoryUsage().heapUsed - heapBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it('an archive that lies about its sizes is stopped at the lie', async () => {
    const honest = await zipOf([{ name: 'xl/worksheets/sheet1.xml', bytes: 40 * 1024 * 1024 }]);
    const liar = lieAboutSizes(honest, 1_000);
    const check = await checkXlsxArchive(liar, limits);
    expect(check.ok).toBe(false);
    const parsed = await parseManualSheet(liar, 'xlsx');
    expect(parsed.errors.map((e) => e.code)).toEqual([
      expect.stringMatching(/^FILE_(UNREADABLE|TOO_LARGE)$/),
    ]);
  });

  it('thousands of tiny entries are refused', async () => {
    const many = await zipOf(
      Array.from({ length: 600 }, (_, i) => ({ name: `xl/media/${i}.bin`, data: Buffer.from('x') })),
    );
    expect(await checkXlsxArchive(many, limits)).toMatchObject({ ok: false, reason: 'too-many-entries' });
  });

  it('a real workbook passes the guard with what it unzips to', async () => {
    const book = await workbook(50);
    const check = await checkXlsxArchive(book, limits);
    expect(check.ok).toBe(true);
    if (check.ok) expect(check.unzippedBytes).toBeGreaterThan(book.length);
  });
});

describe('parsing off the main thread', () => {
  it('gives the same rows as parsing in place', async () => {
    const book = await workbook(300);
    const inPlace = await parseManualSheet(book, 'xlsx');
    const offThread = await parseManualSheetOffThread(book, 'xlsx');
    expect(inPlace.errors).toEqual([]);
    expect(inPlace.rows).toHaveLength(300);
    expect(offThread).toEqual(inPlace);
  });

  it('a sheet that needs more memory than the thread may take is refused; the process goes on', async () => {
    const book = await workbook(5_000);
    const result = await parseManualSheetOffThread(book, 'xlsx', { maxHeapMb: 8, timeoutMs: 60_000 });
    expect(result.rows).toEqual([]);
    expect(result.errors).toEqual([
      {
        row: 0,
        column: '',
        code: 'FILE_TOO_LARGE',
        message: 'the sheet needs more than 8 MB to read: split it',
      },
    ]);
    // The next sheet is read as usual.
    const fine = await parseManualSheetOffThread(await workbook(10), 'xlsx');
    expect(fine.rows).toHaveLength(10);
  });
});
