import type { Client, Subscription } from 'aedes';
import aedesPersistence from 'aedes-persistence';

// The package is CommonJS: its default export is the factory aedes itself uses.
const memoryPersistence = aedesPersistence as unknown as () => unknown;

type Callback = (err?: Error | null) => void;
interface SessionPersistence {
  addSubscriptions(client: Client, subs: Subscription[], cb?: Callback): Promise<void> | undefined;
  outgoingEnqueueCombi(
    subs: Array<{ clientId: string; topic: string }>,
    packet: { topic: string },
    cb?: Callback,
  ): Promise<void> | undefined;
}

/** What a session may hold: the rights check of live delivery, asked again for stored sessions. */
export interface SessionRights {
  /** May this connection keep `filter` in its stored session? */
  mayStore(client: Client, filter: string): boolean;
  /** May the stored session of `clientId` receive a message on `topic` while offline? */
  mayQueue(clientId: string, topic: string): boolean;
}

/**
 * aedes' in-memory session store, with every write checked against the device's rights.
 *
 * aedes stores a persistent session's subscriptions as the whole SUBSCRIBE packet, refused filters
 * included (its storeSubscriptions writes `packet.subscriptions`, not the granted ones): a device that
 * subscribed to `#` with SUBACK 0x80 would still have other devices' readings queued for it while offline and
 * delivered at its next connect. Only granted filters are stored here, and a queued message is checked
 * against the session owner's rights once more, so offline delivery passes the same check as live delivery.
 */
export function guardedSessionPersistence(rights: SessionRights): unknown {
  const store = memoryPersistence() as unknown as SessionPersistence;
  const addSubscriptions = store.addSubscriptions.bind(store);
  const outgoingEnqueueCombi = store.outgoingEnqueueCombi.bind(store);
  store.addSubscriptions = function addGrantedSubscriptions(client, subs, cb) {
    return addSubscriptions(
      client,
      subs.filter((sub) => rights.mayStore(client, sub.topic)),
      cb,
    );
  };
  store.outgoingEnqueueCombi = function enqueuePermitted(subs, packet, cb) {
    return outgoingEnqueueCombi(
      subs.filter((sub) => rights.mayQueue(sub.clientId, packet.topic)),
      packet,
      cb,
    );
  };
  return store;
}
