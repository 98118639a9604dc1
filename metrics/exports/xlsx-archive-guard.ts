import yauzl from 'yauzl';

/**
 * An XLSX file is a zip archive, and a zip of a few hundred kilobytes can inflate to gigabytes: handed to
 * exceljs as it is, such a file holds the process for seconds and its memory for gigabytes. Before any
 * parsing, the archive is checked here: the sizes its directory declares must add up to at most
 * `maxUnzippedBytes`, and every entry is inflated once (yauzl validates each entry's real size against the
 * declared one, so an archive that lies about its sizes is stopped at the first byte past the lie).
 * Cost: one inflate of at most `maxUnzippedBytes`, discarded as it streams.
 */
export interface ArchiveLimits {
  maxUnzippedBytes: number;
  maxEntries: number;
}

export type ArchiveCheck =
  | { ok: true; unzippedBytes: number; entries: number }
  | { ok: false; reason: 'too-large' | 'too-many-entries' | 'unreadable'; message: string };

export function checkXlsxArchive(buffer: Buffer, limits: ArchiveLimits): Promise<ArchiveCheck> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (result: ArchiveCheck, zip?: yauzl.ZipFile) => {
      if (settled) return;
      settled = true;
      zip?.close();
      resolve(result);
    };
    const unreadable = (err: Error, zip?: yauzl.ZipFile) =>
      done({ ok: false, reason: 'unreadable', message: `not a readable zip archive: ${err.message}` }, zip);

    yauzl.fromBuffer(
      buffer,
      { lazyEntries: true, validateEntrySizes: true, strictFileNames: false },
      (err, zip) => {
        if (err || zip === undefined) return unreadable(err ?? new Error('no archive'));
        if (zip.entryCount > limits.maxEntries)
          return done(
            {
              ok: false,
              reason: 'too-many-entries',
              message: `the archive holds ${zip.entryCount} files; a workbook needs far fewer (at most ${limits.maxEntries})`,
            },
            zip,
          );
        let declared = 0;
        let inflated = 0;
        const tooLarge = () =>
          done(
            {
              ok: false,
              reason: 'too-large',
              message: `the workbook unzips to more than ${mb(limits.maxUnzippedBytes)} MB`,
            },
            zip,
          );
        zip.on('error', (e: Error) => unreadable(e, zip));
        zip.on('end', () => done({ ok: true, unzippedBytes: inflated, entries: zip.entryCount }, zip));
        zip.on('entry', (entry: yauzl.Entry) => {
          declared += entry.uncompressedSize;
          if (declared > limits.maxUnzippedBytes) return tooLarge();
          if (entry.fileName.endsWith('/')) return zip.readEntry();
          zip.openReadStream(entry, (openErr, stream) => {
            if (openErr || stream === undefined)
              return unreadable(openErr ?? new Error('entry unreadable'), zip);
            stream.on('data', (chunk: Buffer) => {
              inflated += chunk.length;
              if (inflated > limits.maxUnzippedBytes) {
                stream.destroy();
                tooLarge();
              }
            });
            stream.on('error', (e: Error) => unreadable(e, zip));
            stream.on('end', () => {
              if (!settled) zip.readEntry();
            });
          });
        });
        zip.readEntry();
      },
    );
  });
}

const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);
