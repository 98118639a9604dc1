// What the page's classic scripts put on window: the socket.io client, served by the server at
// /socket.io/socket.io.js, typed with the events the live hub emits.
import type { ManagerOptions, Socket, SocketOptions } from 'socket.io-client';
import type { ServerToClientEvents } from '../live/live-events.ts';

declare global {
  interface Window {
    io(options: Partial<ManagerOptions & SocketOptions>): Socket<ServerToClientEvents, Record<string, never>>;
  }
}
