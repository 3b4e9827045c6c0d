import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { join } from 'node:path';
import S3rver from 's3rver';
import { vi } from 'vitest';
import { resetS3Client } from '../sources/s3.js';

export interface TestS3 {
  readonly endpoint: string;
  /** Uploads an object through the real SDK. */
  put(key: string, body: Buffer | string): Promise<void>;
  /** Gives this process the environment a host would have: region, keys, endpoint. */
  useEnvironment(accessKey?: string): void;
  close(): Promise<void>;
}

/** A real S3-protocol server (s3rver, its fixed keys S3RVER/S3RVER) on 127.0.0.1 with one bucket. */
export async function startS3(directory: string, bucket: string): Promise<TestS3> {
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: join(directory, 's3'),
    configureBuckets: [{ name: bucket }],
  });
  const endpoint = `http://127.0.0.1:${(await server.run()).port}`;
  return {
    endpoint,
    async put(key, body) {
      const client = new S3Client({
        region: 'us-east-1',
        endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      });
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      client.destroy();
    },
    useEnvironment(accessKey = 'S3RVER') {
      vi.stubEnv('AWS_REGION', 'us-east-1');
      vi.stubEnv('AWS_ACCESS_KEY_ID', accessKey);
      vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'S3RVER');
      vi.stubEnv('AWS_ENDPOINT_URL_S3', endpoint);
      resetS3Client();
    },
    async close() {
      vi.unstubAllEnvs();
      resetS3Client();
      await server.close();
    },
  };
}
