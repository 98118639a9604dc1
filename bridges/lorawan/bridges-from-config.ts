import type { Config } from '../../core/config.ts';
import { buildLorawanBridge, type LorawanBridge, type LorawanBridgeDeps } from './lorawan-bridge.ts';

/** The bridges the configuration asks for (a URL set), built, not started. */
export function buildLorawanBridges(deps: LorawanBridgeDeps, config: Config): LorawanBridge[] {
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
      }),
    );
  return bridges;
}
