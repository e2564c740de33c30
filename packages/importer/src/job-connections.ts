import type { Connection, ConnectionStore, ConnectionType } from './connection-store.js';
import type { ConnectionLookup, ImportConnection } from './import-jobs.js';
import type { SourceType } from './source.js';

/** The connection type storing a source type's connections (InfluxDB 1.x and 2.x share `influx`, told apart by settings.version). */
function connectionTypeOf(type: SourceType): ConnectionType {
  return type === 'influx1' || type === 'influx2' ? 'influx' : type;
}

/** The jobs' view of the connection store: a connection by id, and a type's active one, each with its secret opened. */
export function connectionLookupOf(store: ConnectionStore): ConnectionLookup {
  const importConnection = (connection: Connection | null): ImportConnection | null => (connection === null ? null : { ...store.sourceConnection(connection), id: connection.id, name: connection.name });
  return {
    get: (id) => importConnection(store.find(id)),
    active: (type) => {
      const connection = store.active(connectionTypeOf(type));
      // The active influx connection may be of the other version: then the job has none.
      return connection?.sourceType === type ? importConnection(connection) : null;
    },
  };
}
