import { DeleteErrorCode } from '@arc/compaction';
import { ArcError, ErrorKind } from '@arc/errors';
import type { InfluxDeletes } from '@arc/influxql';
import type { ServerContext } from './server-context.js';

/**
 * InfluxQL's DELETE / DROP SERIES / DROP MEASUREMENT on /query: rows through the row delete
 * (InfluxQL has no confirmation step: the statement is the confirmation), a whole measurement
 * through the writers' measurement delete (its buffered rows and files).
 */
export function influxDeletesOf(context: Pick<ServerContext, 'deletes' | 'pipeline'>): InfluxDeletes {
  return {
    deleteRows: async (database, measurement, whereSql, range) => {
      const result = await context.deletes.deleteRows({ database, measurement, where: whereSql, dryRun: false, confirm: true, timeRange: range });
      if (!result.success) throw new ArcError(ErrorKind.internal, DeleteErrorCode.failed, `${String(result.failedFiles.length)} of ${String(result.affectedFiles)} files of ${measurement} failed to process; run the statement again`);
    },
    dropMeasurement: async (database, measurement) => {
      const failed = await context.pipeline.deleteMeasurement(database, measurement);
      if (failed !== null) throw failed;
    },
  };
}
