import { join } from 'node:path';
import { registryStoreContract } from '../test/contracts/registry-store.contract.ts';
import { makeTempDir } from '../test/helpers/temp-dir.ts';
import { RegistryStore } from './registry-store.ts';

registryStoreContract('sqlite', async () => {
  const dir = makeTempDir('registry-store-');
  return { store: RegistryStore.open(join(dir.path, 'registry.db')), cleanup: async () => dir.remove() };
});
