import uWS from 'uWebSockets.js';
import { ArcError, ErrorKind } from '@arc/errors';
import { ServerErrorCode } from './error-codes.js';

/**
 * uWS's plain `listen` sets SO_REUSEPORT, so a second Arc on a taken port starts and the kernel
 * splits connections between the two. LIBUS_LISTEN_EXCLUSIVE_PORT leaves the option off: a taken
 * port (by Arc or anything else) fails the listen, and the start.
 */
const LIBUS_LISTEN_EXCLUSIVE_PORT = 1;

/** The (host, port, options, callback) form of `listen` the native module has and its typings lack. */
interface ListenWithOptions {
  listen(host: string, port: number, options: number, callback: (socket: uWS.us_listen_socket | false) => void): unknown;
}

/** Listens on host:port alone, or rejects with ARC_PORT_IN_USE naming the address. */
export function listenExclusive(app: uWS.TemplatedApp, host: string, port: number): Promise<uWS.us_listen_socket> {
  return new Promise((resolve, reject) => {
    (app as unknown as ListenWithOptions).listen(host, port, LIBUS_LISTEN_EXCLUSIVE_PORT, (socket) => {
      if (socket !== false) return resolve(socket);
      reject(
        new ArcError(ErrorKind.unavailable, ServerErrorCode.portInUse, `Cannot listen on ${host}:${String(port)}: the port is in use by another process (or the address is not this machine's)`, {
          host,
          port,
        }),
      );
    });
  });
}
