import { apiKeyStoreContract } from '../../test/contracts/api-key-store.contract.ts';
import { makeTempDir } from '../../test/helpers/temp-dir.ts';
import { SqliteApiKeyStore } from './sqlite-api-key-store.ts';

apiKeyStoreContract('sqlite', async () => {
  const dir = makeTempDir('api-key-store-');
  return { store: SqliteApiKeyStore.open(dir.path), cleanup: async () => dir.remove() };
});
