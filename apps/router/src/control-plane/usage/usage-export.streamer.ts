import { Injectable, Logger } from '@nestjs/common';
import {
  Subjects,
  USAGE_EXPORT_ABORT,
  USAGE_EXPORT_ACK,
  USAGE_EXPORT_FRAME_HEADER,
  type UsageExportStartRequest,
} from '@torouter/contracts';
import { EventBus, RpcClient } from '@torouter/messaging';
import { createInbox, StringCodec, type Msg } from 'nats';
import { PassThrough, type Readable } from 'node:stream';

const sc = StringCodec();
/** How long the router waits for the usage service's next frame after taking one. */
const FRAME_IDLE_TIMEOUT_MS = 60_000;
/** How long the usage service waits for the router (and so the client) to take a frame. */
const FRAME_TAKE_TIMEOUT_MS = 120_000;

/**
 * The router's end of the CSV export (see usage.contract.ts): subscribes to a fresh inbox, asks usage to
 * start, and turns the frames it receives into a Readable for the HTTP response. A frame is acknowledged
 * only once the response stream accepted it (`write` returned true, or after `drain`), so the usage
 * service's cursor moves at the client's pace and memory stays flat whatever the file's size. When the
 * client leaves, the next frame is answered `abort` and the usage service closes its cursor.
 */
@Injectable()
export class UsageExportStreamer {
  private readonly logger = new Logger(UsageExportStreamer.name);

  constructor(
    private readonly rpc: RpcClient,
    private readonly events: EventBus,
  ) {}

  /** Starts the export; rejects (nothing sent yet) if usage refuses it, e.g. a bad filter or too many exports. */
  async open(request: Omit<UsageExportStartRequest, 'replyTo' | 'frameTimeoutMs'>): Promise<Readable> {
    const nc = this.events.connection;
    const inbox = createInbox();
    const out = new PassThrough({ highWaterMark: 64 * 1024 });
    let idle: NodeJS.Timeout | null = null;
    let done = false;

    const finish = () => {
      if (done) return;
      done = true;
      if (idle) clearTimeout(idle);
      sub.unsubscribe();
    };
    const waitForNextFrame = () => {
      if (idle) clearTimeout(idle);
      if (done) return;
      idle = setTimeout(() => {
        if (done) return;
        this.logger.warn(
          `CSV export: no frame from usage in ${FRAME_IDLE_TIMEOUT_MS} ms; cutting the response`,
        );
        finish();
        out.destroy(new Error('usage export stalled'));
      }, FRAME_IDLE_TIMEOUT_MS);
      idle.unref();
    };
    // The client went away (Fastify destroys the payload stream): stop at the next frame.
    out.once('close', () => {
      if (!out.writableFinished) done = true;
    });

    const onFrame = (msg: Msg) => {
      if (idle) clearTimeout(idle);
      const kind = msg.headers?.get(USAGE_EXPORT_FRAME_HEADER);
      if (done || out.destroyed) {
        msg.respond(sc.encode(USAGE_EXPORT_ABORT));
        finish();
        return;
      }
      if (kind === 'data') {
        const accepted = out.write(Buffer.from(msg.data));
        const ack = () => {
          if (out.destroyed) {
            msg.respond(sc.encode(USAGE_EXPORT_ABORT));
            finish();
            return;
          }
          msg.respond(sc.encode(USAGE_EXPORT_ACK));
          waitForNextFrame();
        };
        if (accepted) ack();
        else {
          const onDrain = () => {
            out.off('close', onClose);
            ack();
          };
          const onClose = () => {
            out.off('drain', onDrain);
            ack();
          };
          out.once('drain', onDrain);
          out.once('close', onClose);
        }
        return;
      }
      msg.respond(sc.encode(USAGE_EXPORT_ACK));
      finish();
      if (kind === 'end') out.end();
      else {
        this.logger.warn(`CSV export failed in the usage service: ${sc.decode(msg.data)}`);
        out.destroy(new Error('usage export failed'));
      }
    };

    const sub = nc.subscribe(inbox, {
      callback: (err, msg) => {
        if (err) {
          finish();
          out.destroy(err);
          return;
        }
        onFrame(msg);
      },
    });
    try {
      await this.rpc.send(Subjects.usageExportStart, {
        ...request,
        replyTo: inbox,
        frameTimeoutMs: FRAME_TAKE_TIMEOUT_MS,
      });
    } catch (e) {
      finish();
      out.destroy();
      throw e;
    }
    waitForNextFrame();
    return out;
  }
}
