/**
 * @module
 * The object store: buckets of objects with S3/R2 semantics, for the R2 binding and the
 * S3-compatible API (both see the same buckets). One interface, implemented by every backend
 * (sqlite/objects.ts today: metadata rows in SQLite, bodies as files) and checked by
 * objects.contract.ts.
 *
 * Promises every backend keeps:
 * - Bodies stream in and out; a backend never holds a whole object in memory.
 * - A put is atomic: readers see the old object or the new one, never a part; a put that fails
 *   (bad digest, a failed precondition, a broken stream) changes nothing.
 * - ETags are S3's: the hex MD5 of the body, or for a multipart object the hex MD5 of the
 *   concatenated binary MD5s of its parts followed by `-<number of parts>`. `etag` is stored
 *   without quotes; HTTP answers put it in quotes.
 * - Keys are listed in UTF-8 byte order, as S3 and R2 list them.
 */

/** The standard HTTP headers stored with an object (R2 httpMetadata). */
export interface ObjectHttpMetadata {
  contentType?: string;
  contentLanguage?: string;
  contentDisposition?: string;
  contentEncoding?: string;
  cacheControl?: string;
  /** Epoch ms. */
  expires?: number;
}

/** Hex digests of the body; md5 is always present for single-part objects. */
export interface ObjectChecksums {
  md5?: string;
  sha1?: string;
  sha256?: string;
  sha384?: string;
  sha512?: string;
}

export type ChecksumAlgorithm = keyof ObjectChecksums;

export interface ObjectInfo {
  bucket: string;
  key: string;
  size: number;
  /** Without quotes: `<hex md5>` or `<hex>-<parts>`. */
  etag: string;
  /** Changes with every write of the key. */
  version: string;
  /** Epoch ms of the write. */
  uploaded: number;
  httpMetadata: ObjectHttpMetadata;
  customMetadata: Record<string, string>;
  checksums: ObjectChecksums;
}

export interface BucketInfo {
  name: string;
  /** Epoch ms. */
  createdAt: number;
}

/** A byte range: `offset` (+ `length`), or the last `suffix` bytes. */
export interface ObjectRange {
  offset?: number;
  length?: number;
  suffix?: number;
}

export interface ObjectWriteOptions {
  httpMetadata?: ObjectHttpMetadata;
  customMetadata?: Record<string, string>;
  /** Expected hex digests; a mismatch throws OBJECT_BAD_DIGEST and stores nothing. */
  expect?: ObjectChecksums;
  /**
   * Checked against the current object (undefined when there is none) just before the write
   * is made visible; returning false throws OBJECT_PRECONDITION_FAILED and stores nothing.
   */
  onlyIf?: (current: ObjectInfo | undefined) => boolean;
  /**
   * Called once the whole body is on disk, before it becomes visible; throwing stores nothing
   * (for checks the caller computes itself while the body streams, such as a trailing CRC32).
   */
  verify?: () => void;
  /** The object being copied, when this write is a copy (recorded in change events as one). */
  copySource?: { bucket: string; key: string };
}

/** An object's body: read it, or close it without reading. */
export interface ObjectBody extends AsyncIterable<Uint8Array> {
  /** Releases the body without reading it (reading to the end releases it too). */
  close(): Promise<void>;
  /**
   * Optional, unstable: reads the next bytes into `into` (up to its length) and resolves how many,
   * 0 at the end — a BYOB read, so a caller that reuses its buffers (the S3 API's GetObject)
   * allocates nothing per chunk. Use it or iterate, not both; it does not close the body.
   */
  readInto?(into: Uint8Array): Promise<number>;
}

export interface ObjectGetResult {
  info: ObjectInfo;
  /** The bytes returned: the whole object unless a range was asked for. */
  range: { offset: number; length: number };
  body: ObjectBody;
}

export interface ObjectListOptions {
  prefix?: string;
  delimiter?: string;
  /** From an earlier result's `cursor`. */
  cursor?: string;
  /** List keys after this one. */
  startAfter?: string;
  /** 1–1000 (default 1000); objects and delimited prefixes both count. */
  limit?: number;
}

export interface ObjectListResult {
  objects: ObjectInfo[];
  delimitedPrefixes: string[];
  truncated: boolean;
  /** Present when truncated. */
  cursor?: string;
}

export interface MultipartUploadInfo {
  uploadId: string;
  bucket: string;
  key: string;
  /** Epoch ms. */
  createdAt: number;
}

export interface PartInfo {
  partNumber: number;
  /** Hex MD5 of the part, without quotes. */
  etag: string;
  size: number;
  /** Epoch ms. */
  uploaded: number;
}

export interface CompleteOptions {
  /** Every part but the last must be at least this big (default 5 MiB, as S3 and R2). */
  minPartSize?: number;
  onlyIf?: (current: ObjectInfo | undefined) => boolean;
}

/** S3's and R2's smallest part (except the last). */
export const MIN_PART_SIZE = 5 * 1024 * 1024;
export const MAX_PART_NUMBER = 10_000;
export const MAX_KEY_BYTES = 1024;
export const MAX_LIST_LIMIT = 1000;

/** S3's bucket naming rule (3–63 lower-case letters, digits, dots and hyphens; not an IP). */
export const BUCKET_NAME_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export interface ObjectStore {
  /** Creates a bucket (`created` false when it already exists). Throws OBJECT_INVALID_BUCKET_NAME. */
  createBucket(name: string): Promise<{ bucket: BucketInfo; created: boolean }>;
  listBuckets(): Promise<BucketInfo[]>;
  headBucket(name: string): Promise<BucketInfo | undefined>;
  /** Throws OBJECT_NO_SUCH_BUCKET, or OBJECT_BUCKET_NOT_EMPTY while it holds objects or uploads. */
  deleteBucket(name: string): Promise<void>;
  /**
   * Streams `body` to storage and makes it the object at `key`. Throws OBJECT_NO_SUCH_BUCKET,
   * OBJECT_INVALID_KEY, OBJECT_BAD_DIGEST, OBJECT_PRECONDITION_FAILED.
   */
  put(bucket: string, key: string, body: AsyncIterable<Uint8Array>, options?: ObjectWriteOptions): Promise<ObjectInfo>;
  /** Undefined when the object does not exist. Throws OBJECT_NO_SUCH_BUCKET, OBJECT_INVALID_RANGE. */
  get(bucket: string, key: string, options?: { range?: ObjectRange }): Promise<ObjectGetResult | undefined>;
  head(bucket: string, key: string): Promise<ObjectInfo | undefined>;
  /** Deletes the keys that exist (missing ones are no error). Throws OBJECT_NO_SUCH_BUCKET. */
  delete(bucket: string, keys: readonly string[]): Promise<void>;
  list(bucket: string, options?: ObjectListOptions): Promise<ObjectListResult>;
  createMultipartUpload(bucket: string, key: string, options?: Pick<ObjectWriteOptions, 'httpMetadata' | 'customMetadata'>): Promise<MultipartUploadInfo>;
  /** Throws OBJECT_NO_SUCH_UPLOAD, OBJECT_INVALID_PART (part number outside 1–10000), OBJECT_BAD_DIGEST. */
  uploadPart(bucket: string, key: string, uploadId: string, partNumber: number, body: AsyncIterable<Uint8Array>, options?: { expect?: ObjectChecksums; verify?: () => void }): Promise<PartInfo>;
  listParts(bucket: string, key: string, uploadId: string): Promise<PartInfo[]>;
  /**
   * Joins the listed parts, in order, into the object. Throws OBJECT_NO_SUCH_UPLOAD,
   * OBJECT_INVALID_PART_ORDER, OBJECT_INVALID_PART (missing part or wrong ETag),
   * OBJECT_ENTITY_TOO_SMALL, OBJECT_PRECONDITION_FAILED.
   */
  completeMultipartUpload(bucket: string, key: string, uploadId: string, parts: ReadonlyArray<{ partNumber: number; etag: string }>, options?: CompleteOptions): Promise<ObjectInfo>;
  /** Throws OBJECT_NO_SUCH_UPLOAD. */
  abortMultipartUpload(bucket: string, key: string, uploadId: string): Promise<void>;
  /**
   * Change capture (object-changes.ts): from now on every object created or deleted in `bucket`
   * also sends an ObjectChange to each of `queues`, in the transaction of the object's metadata
   * write. Replaces the bucket's set; persisted; an empty list stops capture. A missing queue is created.
   */
  setChangeFeeds(bucket: string, queues: readonly string[]): Promise<void>;
  /** Every bucket's capture queues. */
  changeFeeds(): Promise<Record<string, string[]>>;
}
