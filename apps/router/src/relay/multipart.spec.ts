import {
  buildMultipart,
  multipartBoundary,
  multipartField,
  parseMultipart,
  withMultipartField,
} from './multipart';

describe('multipart/form-data', () => {
  const boundary = '----formdata-test-42';
  const binary = Buffer.from([0, 1, 2, 0xff, 13, 10, 45, 45, 0x80]);
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\ngpt-image-1\r\n`),
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`,
    ),
    binary,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);

  it('reads fields and files byte for byte, and swaps a field', () => {
    expect(multipartBoundary(`multipart/form-data; boundary=${boundary}`)).toBe(boundary);
    const parts = parseMultipart(body, boundary);
    expect(multipartField(parts, 'model')).toBe('gpt-image-1');
    expect(parts[1]).toMatchObject({ name: 'image', filename: 'a.png' });
    expect(parts[1].data.equals(binary)).toBe(true);
    const rebuilt = buildMultipart(withMultipartField(parts, 'model', 'dall-e-2'), boundary);
    const again = parseMultipart(rebuilt, boundary);
    expect(multipartField(again, 'model')).toBe('dall-e-2');
    expect(again[1].data.equals(binary)).toBe(true);
    expect(buildMultipart(parts, boundary).equals(body)).toBe(true);
  });

  it('refuses bodies that are not multipart', () => {
    expect(() => multipartBoundary('application/json')).toThrow('multipart');
    expect(() => parseMultipart(Buffer.from('nothing'), boundary)).toThrow();
  });
});
