import { Writable } from 'node:stream';
import { createLogger } from './logger';
import { runWithRequestId } from './request-context';

function capture(): { lines: Record<string, unknown>[]; stream: Writable } {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      cb();
    },
  });
  return { lines, stream };
}

describe('createLogger', () => {
  it('writes JSON with the service, level name and current request id', () => {
    const { lines, stream } = capture();
    const log = createLogger('keys', 'info', stream);
    runWithRequestId('req_abc12345', () => log.info({ keyId: 'k1' }, 'looked up'));
    expect(lines[0]).toMatchObject({
      service: 'keys',
      level: 'info',
      requestId: 'req_abc12345',
      keyId: 'k1',
      msg: 'looked up',
    });
  });

  it('redacts secrets wherever they appear', () => {
    const { lines, stream } = capture();
    const log = createLogger('auth', 'info', stream);
    log.info({
      password: 'hunter2',
      body: { apiKey: 'sk-live', token: 't' },
      headers: { authorization: 'Bearer sk-x' },
    });
    const text = JSON.stringify(lines[0]);
    expect(text).not.toMatch(/hunter2|sk-live|sk-x|"t"/);
    expect(text).toContain('[redacted]');
  });
});
