import { Injectable, Logger, type OnModuleDestroy } from '@nestjs/common';
import {
  DomainError,
  ErrorCodes,
  USAGE_EXPORT_ABORT,
  USAGE_EXPORT_FRAME_BYTES,
  USAGE_EXPORT_FRAME_HEADER,
  type UsageExportFrameKind,
  type UsageExportStarted,
  type UsageExportSummary,
  type UsageLogFilters,
  type UsageScope,
} from '@torouter/contracts';
import { EventBus } from '@torouter/messaging';
import { stringify } from 'csv-stringify/sync';
import { headers as natsHeaders, StringCodec } from 'nats';
import { randomUUID } from 'node:crypto';
import { DataSource, type QueryRunner } from 'typeorm';
import { UsageMetrics } from '../metrics/usage-metrics';
import {
  logWhere,
  REQUEST_LOG_COLUMNS,
  SqlParams,
  type RequestLogRecord,
} from '../queries/usage-query.repository';
import { csvColumns, toCsvRecord } from './csv-row';

/** Rows per FETCH from the server-side cursor (the product pages: "batches of 1000 rows"). */
export const EXPORT_FETCH_ROWS = 1000;
/** Each export holds one Postgres connection for its duration; the pool has 10. */
export const MAX_CONCURRENT_EXPORTS = 3;

const sc = StringCodec();

class ExportAborted extends Error {}

export interface ExportRequest {
  scope: UsageScope;
  filters: UsageLogFilters & { from: string; to: string };
  replyTo: string;
  frameTimeoutMs: number;
}

/**
 * Streams a CSV of per-request rows to the caller's NATS inbox in constant memory: rows come from a
 * server-side cursor (DECLARE … CURSOR in a transaction, FETCH 1000 at a time) and go out as frames of at
 * most USAGE_EXPORT_FRAME_BYTES, each sent as a request the caller answers only once it has passed the
 * frame on to its client. A slow client therefore slows the cursor; a client that leaves stops it.
 */
@Injectable()
export class UsageExportService implements OnModuleDestroy {
  private readonly logger = new Logger(UsageExportService.name);
  private readonly running = new Set<Promise<void>>();
  private shuttingDown = false;

  constructor(
    private readonly dataSource: DataSource,
    private readonly events: EventBus,
    private readonly metrics: UsageMetrics,
  ) {}

  start(req: ExportRequest): UsageExportStarted {
    if (new Date(req.filters.to) <= new Date(req.filters.from)) {
      throw new DomainError(ErrorCodes.VALIDATION_FAILED, 'to: must be after from', {
        fields: [{ field: 'to', message: 'must be after from' }],
      });
    }
    if (this.shuttingDown || this.running.size >= MAX_CONCURRENT_EXPORTS) {
      this.metrics.exports.inc({ result: 'refused' });
      throw new DomainError(
        ErrorCodes.RATE_LIMITED,
        'too many CSV exports are running right now; try again in a minute',
      );
    }
    const exportId = randomUUID();
    const columns = csvColumns(req.scope);
    const run: Promise<void> = this.stream(exportId, req, columns).finally(() => {
      this.running.delete(run);
      this.metrics.exportsInProgress.set(this.running.size);
    });
    this.running.add(run);
    this.metrics.exportsInProgress.set(this.running.size);
    return { exportId, columns };
  }

  async onModuleDestroy(): Promise<void> {
    this.shuttingDown = true;
    await Promise.allSettled([...this.running]);
  }

  private async stream(exportId: string, req: ExportRequest, columns: string[]): Promise<void> {
    let rows = 0;
    let qr: QueryRunner | null = null;
    try {
      qr = this.dataSource.createQueryRunner();
      await qr.connect();
      await qr.startTransaction('REPEATABLE READ');
      const p = new SqlParams();
      const where = logWhere(req.scope, req.filters, p);
      await qr.query(
        `DECLARE "usage_export" NO SCROLL CURSOR FOR
           SELECT ${REQUEST_LOG_COLUMNS} FROM "usage"."request_logs"
            WHERE ${where.join(' AND ')}
            ORDER BY "created_at" ASC, "request_id" ASC`,
        p.values,
      );
      await this.send(req, 'data', stringify([columns]));
      for (;;) {
        const batch: RequestLogRecord[] = await qr.query(`FETCH ${EXPORT_FETCH_ROWS} FROM "usage_export"`);
        if (batch.length === 0) break;
        let frame = '';
        for (const row of batch) {
          const line = stringify([toCsvRecord(row, req.scope)], { escape_formulas: true });
          if (frame.length > 0 && frame.length + line.length > USAGE_EXPORT_FRAME_BYTES) {
            await this.send(req, 'data', frame);
            frame = '';
          }
          frame += line;
        }
        if (frame.length > 0) await this.send(req, 'data', frame);
        rows += batch.length;
        this.metrics.exportRows.inc(batch.length);
      }
      const summary: UsageExportSummary = { exportId, rows };
      await this.send(req, 'end', JSON.stringify(summary));
      this.metrics.exports.inc({ result: 'completed' });
    } catch (e) {
      if (e instanceof ExportAborted) {
        this.metrics.exports.inc({ result: 'aborted' });
        this.logger.log(`CSV export ${exportId} stopped after ${rows} rows: ${e.message}`);
      } else {
        this.metrics.exports.inc({ result: 'failed' });
        const err = e instanceof Error ? e : new Error(String(e));
        this.logger.error(`CSV export ${exportId} failed after ${rows} rows: ${err.message}`, err.stack);
        await this.send(req, 'error', 'the export failed; try again').catch(() => undefined);
      }
    } finally {
      if (qr) {
        if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
        await qr.release().catch(() => undefined);
      }
    }
  }

  /** One frame; resolves once the caller took it, throws ExportAborted if it will not take more. */
  private async send(req: ExportRequest, kind: UsageExportFrameKind, body: string): Promise<void> {
    if (this.shuttingDown && kind === 'data') throw new ExportAborted('the usage service is shutting down');
    const h = natsHeaders();
    h.set(USAGE_EXPORT_FRAME_HEADER, kind);
    let answer: string;
    try {
      const reply = await this.events.connection.request(req.replyTo, sc.encode(body), {
        timeout: req.frameTimeoutMs,
        headers: h,
      });
      answer = sc.decode(reply.data);
    } catch (e) {
      throw new ExportAborted(
        `the caller did not take a frame: ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    if (answer === USAGE_EXPORT_ABORT) throw new ExportAborted('the caller aborted (client gone)');
  }
}
