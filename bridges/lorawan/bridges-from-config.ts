import type { Config } from '../../core/config.ts';
import { buildLorawanBridge, type LorawanBridge, type LorawanBridgeDeps } from './lorawan-bridge.ts';

/**
 * The bridges the configuration asks for (a URL set), built, not started. `shareGroup`: each subscribes as
 * a member of that shared subscription (the cluster's edges).
 */
export function buildLorawanBridges(
  deps: LorawanBridgeDeps,
  config: Config,
  shared: { shareGroup?: string } = {},
): LorawanBridge[] {
  const bridges: LorawanBridge[] = [];
  if (config.chirpstackMqttUrl !== undefined)
    bridges.push(
      buildLorawanBridge(deps, {
        server: 'chirpstack',
        url: config.chirpstackMqttUrl,
        username: config.chirpstackMqttUsername,
        password: config.chirpstackMqttPassword,
        topic: config.chirpstackMqttTopic,
        clientId: config.chirpstackMqttClientId,
        ...shared,
      }),
    );
  if (config.ttsMqttUrl !== undefined)
    bridges.push(
      buildLorawanBridge(deps, {
        server: 'tts',
        url: config.ttsMqttUrl,
        username: config.ttsMqttUsername,
        password: config.ttsMqttPassword,
        topic: config.ttsMqttTopic,
        clientId: config.ttsMqttClientId,
        ...shared,
      }),
    );
  return bridges;
}
