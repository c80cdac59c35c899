import { inspect } from 'node:util';
import { bytesOf } from '@cimmeria/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3BlobStore, S3UrlError, redactS3Url, s3ClientFromUrl } from '../src/index.js';
import { startS3, type TestS3 } from './support/s3rver.js';

let s3: TestS3;
beforeAll(async () => {
  s3 = await startS3();
});
afterAll(async () => {
  await s3?.close();
});

describe('s3ClientFromUrl', () => {
  it('builds a client that reaches the store, with bucket and prefix from the URL', async () => {
    const bucket = await s3.createBucket(s3.client());
    const url = `s3://${bucket}/team/cimmeria/?endpoint=${encodeURIComponent(s3.endpoint)}&forcePathStyle=true&accessKeyId=S3RVER&secretAccessKey=S3RVER`;
    const { client, bucket: parsedBucket, prefix } = s3ClientFromUrl(url);
    try {
      expect(parsedBucket).toBe(bucket);
      expect(prefix).toBe('team/cimmeria');
      expect(await client.config.region()).toBe('us-east-1');
      expect(client.config.forcePathStyle).toBe(true);
      const store = new S3BlobStore({ client, bucket: parsedBucket, prefix });
      await store.ping();
      await store.put('blobs/from-url', bytesOf('via url'));
      expect(await store.stat('blobs/from-url')).toMatchObject({ size: 7 });
    } finally {
      client.destroy();
    }
  });

  it('takes region, checksum mode and extra client config', async () => {
    const { client, bucket, prefix } = s3ClientFromUrl('s3://my-bucket?region=eu-west-3&checksums=when_required', {
      maxAttempts: 7,
    });
    try {
      expect([bucket, prefix]).toEqual(['my-bucket', '']);
      expect(await client.config.region()).toBe('eu-west-3');
      expect(await client.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED');
      expect(await client.config.responseChecksumValidation()).toBe('WHEN_REQUIRED');
      expect(await client.config.maxAttempts()).toBe(7);
    } finally {
      client.destroy();
    }
  });

  it('refuses bad URLs without ever repeating a secret', () => {
    const secret = 'wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY';
    const bad = [
      `http://bucket/x?secretAccessKey=${secret}&accessKeyId=A`,
      `s3://ab?secretAccessKey=${secret}&accessKeyId=A`,
      `s3://Upper_Case/x?secretAccessKey=${secret}&accessKeyId=A`,
      `s3://bucket/x?secretAccessKey=${secret}`,
      `s3://bucket/x?secretAccessKey=${secret}&accessKeyId=A&regoin=eu-west-1`,
      `s3://bucket/x?secretAccessKey=${secret}&accessKeyId=A&endpoint=ftp://host`,
      `s3://bucket/x?secretAccessKey=${secret}&accessKeyId=A&forcePathStyle=yes`,
      `s3://bucket/x?secretAccessKey=${secret}&secretAccessKey=${secret}&accessKeyId=A`,
      `s3://A:${secret}@bucket/x`,
      `s3://bucket x/${secret}`,
      `not a url ${secret}`,
    ];
    for (const url of bad) {
      let error: unknown;
      try {
        s3ClientFromUrl(url);
      } catch (e) {
        error = e;
      }
      expect(error, url).toBeInstanceOf(S3UrlError);
      expect(inspect(error, { depth: 5 }), url).not.toContain(secret);
    }
    expect(() => s3ClientFromUrl('s3://bucket/x?regoin=eu')).toThrow(/unknown parameter\(s\) regoin/);
    expect(() => s3ClientFromUrl('s3://bucket/x?secretAccessKey=k')).toThrow(/given together/);
    expect(() => s3ClientFromUrl('s3://ab')).toThrow(/bucket must be 3-63/);
  });

  it('redacts secrets for logs', () => {
    expect(redactS3Url('s3://bucket/p?region=eu-west-1&accessKeyId=AKIA&secretAccessKey=s3cr3t&sessionToken=tok')).toBe(
      's3://bucket/p?region=eu-west-1&accessKeyId=AKIA&secretAccessKey=***&sessionToken=***',
    );
    expect(redactS3Url('s3://bucket/p?region=eu-west-1')).toBe('s3://bucket/p?region=eu-west-1');
    expect(redactS3Url('nonsense s3cr3t')).toBe('<invalid S3 URL>');
  });
});
