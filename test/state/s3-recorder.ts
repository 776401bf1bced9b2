import { IncomingHttpHeaders, Server, createServer } from 'http';
import { AddressInfo } from 'net';

/** One request as the recorder received it. */
export interface RecordedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

/**
 * A loopback HTTP endpoint that stands where an S3 server would: it records every request and refuses each one
 * with S3's `AccessDenied` error (403 is not retried by the AWS SDK, so a client gives up at once). No S3 server is
 * available here; this shows what Terraform's s3 backend sends with a configuration it accepted.
 */
export class S3Recorder {
  public readonly requests: RecordedRequest[] = [];
  private readonly server: Server = createServer((request, response) => {
    this.requests.push({ method: request.method ?? '', url: request.url ?? '', headers: request.headers });
    request.resume();
    response.writeHead(403, { 'content-type': 'application/xml' });
    response.end('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>refused by the test recorder</Message></Error>');
  });

  private constructor() {}

  /** Starts listening on 127.0.0.1 at a free port. */
  public static start(): Promise<S3Recorder> {
    const recorder = new S3Recorder();
    return new Promise((resolve, reject) => {
      recorder.server.once('error', reject);
      recorder.server.listen(0, '127.0.0.1', () => resolve(recorder));
    });
  }

  /** `http://127.0.0.1:<port>`. */
  public get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  public stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
