import { createHash, createHmac } from 'crypto';
import { IncomingMessage, Server, ServerResponse, createServer } from 'http';
import { createServer as createHttpsServer } from 'https';
import { AddressInfo } from 'net';

/**
 * A small S3-protocol stand-in for the tests (Debian ships no S3 server): path-style buckets in memory, the object
 * calls rclone and pgBackRest make (HEAD, GET, PUT, DELETE, ListObjects v1/v2, DeleteObjects, multipart upload),
 * and AWS Signature V4 checked against one key pair, so a request signed with other credentials gets 403 as from a
 * real store. Plain HTTP, or HTTPS with a given certificate (pgBackRest speaks S3 over TLS only). Every request is
 * recorded.
 */
export interface S3Request {
  readonly method: string;
  readonly path: string;
  readonly accessKey?: string;
  readonly status: number;
}

export class S3Standin {
  public readonly objects = new Map<string, Uint8Array>();
  public readonly requests: S3Request[] = [];
  private server?: Server;
  /** Multipart uploads in progress: upload id → parts by number. */
  private readonly uploads = new Map<string, { key: string; parts: Map<number, Uint8Array> }>();
  private nextUploadId = 1;

  constructor(private readonly bucket: string, private readonly accessKey: string, private readonly secretKey: string, private readonly region = 'us-east-1') {}

  /** Listens on `host` (a free port, or `port`); resolves to `http://host:port`, or `https://` with `tls` (PEM key and certificate). */
  public async start(host: string, options: { tls?: { key: string; cert: string }; port?: number } = {}): Promise<string> {
    const handler = (request: IncomingMessage, response: ServerResponse) => {
      const chunks: Uint8Array[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(new Uint8Array(chunk)));
      request.on('end', () => this.handle(request, new Uint8Array(Buffer.concat(chunks)), response));
    };
    this.server = options.tls ? createHttpsServer({ key: options.tls.key, cert: options.tls.cert }, handler) : createServer(handler);
    await new Promise<void>((resolve) => this.server!.listen(options.port ?? 0, host, resolve));
    return `${options.tls ? 'https' : 'http'}://${host}:${(this.server.address() as AddressInfo).port}`;
  }

  public async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Keys under `prefix` in the bucket, sorted. */
  public keys(prefix = ''): string[] {
    return [...this.objects.keys()].filter((key) => key.startsWith(prefix)).sort();
  }

  private handle(request: IncomingMessage, body: Uint8Array, response: ServerResponse): void {
    const url = new URL(request.url!, 'http://standin');
    const reply = (status: number, xml = '', headers: Record<string, string | number> = {}) => {
      this.requests.push({ method: request.method!, path: url.pathname, accessKey: /Credential=([^/]+)\//.exec(request.headers.authorization ?? '')?.[1], status });
      response.writeHead(status, { 'content-type': 'application/xml', ...headers });
      response.end(request.method === 'HEAD' ? undefined : xml);
    };
    const error = (status: number, code: string) => reply(status, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${code}</Message></Error>`);
    const authError = this.authError(request, url);
    if (authError) {
      error(403, authError);
      return;
    }
    const [, bucket, ...rest] = url.pathname.split('/');
    const key = decodeURIComponent(rest.join('/'));
    if (bucket !== this.bucket) {
      error(404, 'NoSuchBucket');
      return;
    }
    if (key === '' && request.method === 'GET') {
      reply(200, this.listing(url));
      return;
    }
    if (key === '' && request.method === 'POST' && url.searchParams.has('delete')) {
      // DeleteObjects: <Delete><Object><Key>…</Key></Object>…</Delete>, answered quietly (no per-key results).
      for (const match of Buffer.from(body).toString('utf8').matchAll(/<Key>([^<]*)<\/Key>/g)) {
        this.objects.delete(unescapeXml(match[1]));
      }
      reply(200, '<?xml version="1.0" encoding="UTF-8"?><DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"></DeleteResult>');
      return;
    }
    if (this.multipart(request, url, key, body, reply)) {
      return;
    }
    const object = this.objects.get(key);
    const etag = (data: Uint8Array) => `"${createHash('md5').update(data).digest('hex')}"`;
    switch (request.method) {
      case 'PUT':
        this.objects.set(key, body);
        reply(200, '', { etag: etag(body) });
        return;
      case 'HEAD':
      case 'GET':
        if (!object) {
          error(404, 'NoSuchKey');
          return;
        }
        this.requests.push({ method: request.method, path: url.pathname, status: 200 });
        response.writeHead(200, { 'content-length': object.length, etag: etag(object), 'last-modified': new Date().toUTCString(), 'content-type': 'application/octet-stream' });
        response.end(request.method === 'GET' ? object : undefined);
        return;
      case 'DELETE':
        this.objects.delete(key);
        reply(204);
        return;
      default:
        error(405, 'MethodNotAllowed');
    }
  }

  /** The multipart upload calls (create, upload part, complete, abort); false when the request is none of them. */
  private multipart(request: IncomingMessage, url: URL, key: string, body: Uint8Array, reply: (status: number, xml?: string, headers?: Record<string, string>) => void): boolean {
    const uploadId = url.searchParams.get('uploadId');
    const xml = (inner: string) => `<?xml version="1.0" encoding="UTF-8"?>${inner}`;
    if (request.method === 'POST' && url.searchParams.has('uploads')) {
      const id = `upload-${this.nextUploadId++}`;
      this.uploads.set(id, { key, parts: new Map() });
      reply(200, xml(`<InitiateMultipartUploadResult><Bucket>${this.bucket}</Bucket><Key>${escapeXml(key)}</Key><UploadId>${id}</UploadId></InitiateMultipartUploadResult>`));
      return true;
    }
    if (uploadId === null) {
      return false;
    }
    const upload = this.uploads.get(uploadId);
    if (!upload || upload.key !== key) {
      reply(404, xml('<Error><Code>NoSuchUpload</Code><Message>NoSuchUpload</Message></Error>'));
      return true;
    }
    if (request.method === 'PUT') {
      upload.parts.set(Number(url.searchParams.get('partNumber')), body);
      reply(200, '', { etag: `"${createHash('md5').update(body).digest('hex')}"` });
    } else if (request.method === 'POST') {
      const numbers = [...Buffer.from(body).toString('utf8').matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) => Number(m[1]));
      const data = new Uint8Array(Buffer.concat(numbers.map((n) => upload.parts.get(n) ?? new Uint8Array())));
      this.objects.set(key, data);
      this.uploads.delete(uploadId);
      reply(200, xml(`<CompleteMultipartUploadResult><Bucket>${this.bucket}</Bucket><Key>${escapeXml(key)}</Key><ETag>"${createHash('md5').update(data).digest('hex')}-${numbers.length}"</ETag></CompleteMultipartUploadResult>`));
    } else if (request.method === 'DELETE') {
      this.uploads.delete(uploadId);
      reply(204);
    } else {
      return false;
    }
    return true;
  }

  /** ListObjects (v1, or v2 with `list-type=2`) with prefix and `/` delimiter. */
  private listing(url: URL): string {
    const prefix = url.searchParams.get('prefix') ?? '';
    const delimiter = url.searchParams.get('delimiter') ?? '';
    const contents: string[] = [];
    const prefixes = new Set<string>();
    for (const key of this.keys(prefix)) {
      const tail = key.slice(prefix.length);
      const cut = delimiter ? tail.indexOf(delimiter) : -1;
      if (cut >= 0) {
        prefixes.add(prefix + tail.slice(0, cut + 1));
      } else {
        const data = this.objects.get(key)!;
        contents.push(`<Contents><Key>${escapeXml(key)}</Key><LastModified>${new Date().toISOString()}</LastModified><ETag>"${createHash('md5').update(data).digest('hex')}"</ETag><Size>${data.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`);
      }
    }
    const v2 = url.searchParams.get('list-type') === '2';
    return `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${this.bucket}</Name><Prefix>${prefix}</Prefix>`
      + `${v2 ? `<KeyCount>${contents.length + prefixes.size}</KeyCount>` : '<Marker></Marker>'}<MaxKeys>1000</MaxKeys><Delimiter>${delimiter}</Delimiter><IsTruncated>false</IsTruncated>`
      + `${contents.join('')}${[...prefixes].map((p) => `<CommonPrefixes><Prefix>${escapeXml(p)}</Prefix></CommonPrefixes>`).join('')}</ListBucketResult>`;
  }

  /** What is wrong with the request's Signature V4, or undefined when it is signed with the known key pair. */
  private authError(request: IncomingMessage, url: URL): string | undefined {
    const match = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]+)$/.exec(request.headers.authorization ?? '');
    if (!match) {
      return 'AccessDenied';
    }
    const [, accessKey, date, region, signedHeaders, signature] = match;
    if (accessKey !== this.accessKey) {
      return 'InvalidAccessKeyId';
    }
    const encode = (text: string) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
    const query = [...url.searchParams.entries()].map(([k, v]) => [encode(k), encode(v)]).sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
      .map(([k, v]) => `${k}=${v}`).join('&');
    const path = url.pathname.split('/').map((segment) => encode(decodeURIComponent(segment))).join('/');
    const headers = signedHeaders.split(';').map((name) => `${name}:${String(request.headers[name] ?? '').trim().replace(/\s+/g, ' ')}\n`).join('');
    const canonical = [request.method, path, query, headers, signedHeaders, request.headers['x-amz-content-sha256'] ?? 'UNSIGNED-PAYLOAD'].join('\n');
    const scope = `${date}/${region}/s3/aws4_request`;
    const toSign = ['AWS4-HMAC-SHA256', request.headers['x-amz-date'], scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
    const key = [date, region, 's3', 'aws4_request'].reduce<Uint8Array>((k, part) => new Uint8Array(createHmac('sha256', k).update(part).digest()), new Uint8Array(Buffer.from(`AWS4${this.secretKey}`)));
    const expected = createHmac('sha256', key).update(toSign).digest('hex');
    return expected === signature && region === this.region ? undefined : 'SignatureDoesNotMatch';
  }
}

const escapeXml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const unescapeXml = (text: string) => text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
