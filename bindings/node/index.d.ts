// TypeScript declarations of libwantu's Node package: the official SDK's
// WANTU (npm `wantu`) plus the one-call upload. See docs/node.md.

declare namespace WANTU {
    /** What every call answers, as the official SDK's `res`. */
    interface Response {
        /** 200 on success; the HTTP status of a server error; 0 for a client-side error. */
        statusCode: number;
        /** Always empty: libwantu answers no HTTP headers. */
        headers: Record<string, string>;
        /**
         * The result as JSON text, with the service's camelCase names
         * (`eTag`, `uploadId`, `totalCount`…) plus `code`, `message`,
         * `requestId`, and an `error` name when it failed.
         */
        data: string;
    }

    type Callback = (err: Error | null, res: Response) => void;

    /**
     * What happened to one file of uploadDir, batch or downloadDir: the
     * `status` of each entry of the answer's `results` (docs/folders.md,
     * "Per-file results"). `would_*` only in a dry run.
     */
    type FileStatus = 'uploaded' | 'downloaded' | 'skipped' | 'failed' | 'would_upload' | 'would_download';

    /** An upload policy: an object such as `{ namespace: 'demo', expiration: -1 }`, or its JSON text. */
    type Policy = Record<string, unknown> | string;

    /** User meta or magic variables: an object, its JSON text, or "" for none. */
    type JsonObject = Record<string, unknown> | string;

    interface UploadOptions {
        /** The stored file's name (default: the file's own name). */
        name?: string;
        meta?: JsonObject;
        var?: JsonObject;
        /** Bytes per part, 102400…67108864 (default 8 MiB, grown so no upload needs more than 10000 parts). */
        partSize?: number;
        /** Parts in flight, 1…64 (default 4). */
        concurrency?: number;
        /** Files up to this size go in one request (default: the part size). */
        multipartThreshold?: number;
        /** MD5 of each part sent and checked (default true). */
        integrity?: boolean;
        maxAttempts?: number;
        retryBudgetMs?: number;
        backoffBaseMs?: number;
        backoffMaxMs?: number;
        /** Resume file: a failed upload run again with it skips the parts already sent. */
        checkpointPath?: string;
        /** Called on the event loop as bytes go out; `sent` never goes backwards. Throwing cancels the upload. */
        onProgress?: (sent: number, total: number | null) => void;
        /** Aborting it cancels the upload (answered with error `Cancelled`). */
        signal?: AbortSignal;
    }

    /** Progress and cancel of the calls beyond the official SDK. */
    interface ProgressOptions {
        /** Called on the event loop with the bytes of the whole call; `total` is null until known. Throwing cancels. */
        onProgress?: (done: number, total: number | null) => void;
        /** Aborting it cancels the call (answered with error `Cancelled`). */
        signal?: AbortSignal;
        /** Requests in flight across every file of the call. */
        concurrency?: number;
        /** Bytes per part or range. */
        partSize?: number;
        maxAttempts?: number;
        retryBudgetMs?: number;
        backoffBaseMs?: number;
        backoffMaxMs?: number;
    }

    /** Options of uploadDir and batch (libwantu's, in camelCase: see docs/folders.md). */
    interface ManyOptions extends ProgressOptions {
        multipartThreshold?: number;
        integrity?: boolean;
        /** Globs over the relative path. */
        include?: string[];
        exclude?: string[];
        followSymlinks?: boolean;
        /** "none" (default), "size", or "md5": leave out what is already stored. */
        skip?: 'none' | 'size' | 'md5';
        /** Report what would be sent; send nothing. */
        dryRun?: boolean;
        /** Stop at the first failed file. */
        failFast?: boolean;
        /** Which files the answer's `results` holds (default "all"); see docs/folders.md. */
        results?: 'all' | 'failed';
        /** A file that gets one JSON line per file as it ends. */
        resultsFile?: string;
    }

    /** Options of download (see docs/downloads.md). */
    interface DownloadOptions extends ProgressOptions {
        /** An interrupted download continues where it stopped (default true). */
        resume?: boolean;
    }

    /** Options of downloadContent (see docs/streams.md). */
    interface ContentOptions {
        /** First byte (default 0). */
        start?: number;
        /** Last byte, inclusive as in fs.createReadStream (default: the file's end). */
        end?: number;
        /** The most bytes the answer may hold (default 64 MiB). */
        maxBytes?: number;
        concurrency?: number;
        partSize?: number;
        maxAttempts?: number;
        retryBudgetMs?: number;
        backoffBaseMs?: number;
        backoffMaxMs?: number;
        onProgress?: (done: number, total: number | null) => void;
        signal?: AbortSignal;
    }

    /** What downloadContent answers: `content` holds the bytes when statusCode is 200. */
    interface ContentResponse extends Response {
        /** A Buffer (a Uint8Array). */
        content?: Uint8Array;
    }

    /**
     * What createReadStream answers: a Node stream.Readable of Buffers (typed
     * here without @types/node by what most code uses of it).
     */
    interface ReadStream extends AsyncIterable<Uint8Array> {
        pipe<T>(destination: T, options?: { end?: boolean }): T;
        on(event: string, listener: (...args: any[]) => void): this;
        destroy(error?: Error): this;
    }

    type ContentCallback = (err: Error | null, res: ContentResponse) => void;

    /** Options of createReadStream. */
    interface ReadStreamOptions {
        start?: number;
        /** Last byte, inclusive. */
        end?: number;
        /** Bytes per range read (default 4 MiB, at most 64 MiB). */
        chunkSize?: number;
        highWaterMark?: number;
        signal?: AbortSignal;
    }

    /** Options of downloadDir. */
    interface DownloadDirOptions extends DownloadOptions {
        include?: string[];
        exclude?: string[];
        /** "none" (default), "size", or "md5": keep local files that match. */
        skip?: 'none' | 'size' | 'md5';
        dryRun?: boolean;
        failFast?: boolean;
        maxFiles?: number;
        /** Which files the answer's `results` holds (default "all"); see docs/folders.md. */
        results?: 'all' | 'failed';
        /** A file that gets one JSON line per file as it ends. */
        resultsFile?: string;
    }

    /** One job of batch(): a local file (`path`) or bytes (`content`, with a `name`). */
    interface BatchJob {
        path?: string;
        content?: Uint8Array;
        dir?: string;
        name?: string;
        meta?: JsonObject;
        var?: JsonObject;
    }
}

declare class WANTU {
    /**
     * @param AK access key
     * @param SK secret key
     * @param TYPE "TOP" (default) or "CLOUD"
     * @param uploadEndpoint base URL of uploads (default: the service's)
     * @param manageEndpoint base URL of management (default: the service's)
     * @param options libwantu's client options (connect_timeout_ms, request_timeout_ms, read_timeout_ms, ca_file, proxy, user_agent)
     * @throws TypeError for arguments that are not strings, WantuError for unusable values
     */
    constructor(
        AK: string,
        SK: string,
        TYPE?: string | null,
        uploadEndpoint?: string | null,
        manageEndpoint?: string | null,
        options?: Record<string, unknown> | string | null
    );

    readonly AK: string;
    readonly type: string;

    /** Releases the client once its running calls have ended; later calls answer an error. */
    close(): void;

    delFile(namespace: string, dir: string, file: string, callback: WANTU.Callback): void;
    delFile(namespace: string, dir: string, file: string): Promise<WANTU.Response>;
    existFile(namespace: string, dir: string, file: string, callback: WANTU.Callback): void;
    existFile(namespace: string, dir: string, file: string): Promise<WANTU.Response>;
    getFile(namespace: string, dir: string, file: string, callback: WANTU.Callback): void;
    getFile(namespace: string, dir: string, file: string): Promise<WANTU.Response>;
    listFiles(namespace: string, dir: string, currentPage: number, pageSize: number, callback: WANTU.Callback): void;
    listFiles(namespace: string, dir: string, currentPage: number, pageSize: number): Promise<WANTU.Response>;
    createDir(namespace: string, dir: string, callback: WANTU.Callback): void;
    createDir(namespace: string, dir: string): Promise<WANTU.Response>;
    delDir(namespace: string, dir: string, callback: WANTU.Callback): void;
    delDir(namespace: string, dir: string): Promise<WANTU.Response>;
    existDir(namespace: string, dir: string, callback: WANTU.Callback): void;
    existDir(namespace: string, dir: string): Promise<WANTU.Response>;
    listDirs(namespace: string, dir: string, currentPage: number, pageSize: number, callback: WANTU.Callback): void;
    listDirs(namespace: string, dir: string, currentPage: number, pageSize: number): Promise<WANTU.Response>;
    addPts(
        namespace: string,
        dir: string,
        file: string,
        fops: string,
        notifyURL: string | null,
        force: number | boolean,
        callback: WANTU.Callback
    ): void;
    addPts(
        namespace: string,
        dir: string,
        file: string,
        fops: string,
        notifyURL: string | null,
        force: number | boolean
    ): Promise<WANTU.Response>;
    getPts(persistentId: string, callback: WANTU.Callback): void;
    getPts(persistentId: string): Promise<WANTU.Response>;

    singleUpload(
        uploadPolicy: WANTU.Policy,
        filePath: string,
        dir: string | null,
        meta: WANTU.JsonObject | null,
        _var: WANTU.JsonObject | null,
        callback: WANTU.Callback
    ): void;
    singleUpload(
        uploadPolicy: WANTU.Policy,
        filePath: string,
        dir: string | null,
        meta?: WANTU.JsonObject | null,
        _var?: WANTU.JsonObject | null
    ): Promise<WANTU.Response>;
    /** The whole multipart upload; unlike the official SDK, calls back once, with the final result. */
    multiUpload(
        uploadPolicy: WANTU.Policy,
        filePath: string,
        dir: string | null,
        meta: WANTU.JsonObject | null,
        _var: WANTU.JsonObject | null,
        chunkSize: number | null | "",
        callback: WANTU.Callback
    ): void;
    multiUpload(
        uploadPolicy: WANTU.Policy,
        filePath: string,
        dir: string | null,
        meta?: WANTU.JsonObject | null,
        _var?: WANTU.JsonObject | null,
        chunkSize?: number | null | ""
    ): Promise<WANTU.Response>;
    multiUploadInit(
        uploadPolicy: WANTU.Policy,
        filePath: string,
        dir: string | null,
        meta: WANTU.JsonObject | null,
        _var: WANTU.JsonObject | null,
        curChunkSize: number,
        callback: WANTU.Callback
    ): void;
    multiUploadInit(
        uploadPolicy: WANTU.Policy,
        filePath: string,
        dir: string | null,
        meta: WANTU.JsonObject | null,
        _var: WANTU.JsonObject | null,
        curChunkSize: number
    ): Promise<WANTU.Response>;
    multiUploadBlock(
        uploadPolicy: WANTU.Policy,
        filePath: string,
        id: string,
        uploadId: string,
        partNumber: number,
        chunkStart: number,
        curChunkSize: number,
        callback: WANTU.Callback
    ): void;
    multiUploadBlock(
        uploadPolicy: WANTU.Policy,
        filePath: string,
        id: string,
        uploadId: string,
        partNumber: number,
        chunkStart: number,
        curChunkSize: number
    ): Promise<WANTU.Response>;
    multiUploadComplete(
        uploadPolicy: WANTU.Policy,
        filePath: string | null,
        id: string,
        uploadId: string,
        eTags: string[],
        callback: WANTU.Callback
    ): void;
    multiUploadComplete(
        uploadPolicy: WANTU.Policy,
        filePath: string | null,
        id: string,
        uploadId: string,
        eTags: string[]
    ): Promise<WANTU.Response>;
    cancelMultiUpload(uploadPolicy: WANTU.Policy, id: string, uploadId: string, callback: WANTU.Callback): void;
    cancelMultiUpload(uploadPolicy: WANTU.Policy, id: string, uploadId: string): Promise<WANTU.Response>;
    cancelMultiUpload(
        uploadPolicy: WANTU.Policy,
        filePath: string | null,
        id: string,
        uploadId: string,
        callback: WANTU.Callback
    ): void;
    cancelMultiUpload(
        uploadPolicy: WANTU.Policy,
        filePath: string | null,
        id: string,
        uploadId: string
    ): Promise<WANTU.Response>;

    /** A file of any size in one call: parallel parts, retries, progress, cancel (beyond the official SDK). */
    upload(
        uploadPolicy: WANTU.Policy,
        filePath: string,
        dir: string | null,
        options: WANTU.UploadOptions,
        callback: WANTU.Callback
    ): void;
    upload(uploadPolicy: WANTU.Policy, filePath: string, dir: string | null, callback: WANTU.Callback): void;
    upload(
        uploadPolicy: WANTU.Policy,
        filePath: string,
        dir: string | null,
        options?: WANTU.UploadOptions
    ): Promise<WANTU.Response>;

    /** Every file under localDir to remoteDir + its relative path, under one scheduler. */
    uploadDir(
        uploadPolicy: WANTU.Policy,
        localDir: string,
        remoteDir: string | null,
        options: WANTU.ManyOptions,
        callback: WANTU.Callback
    ): void;
    uploadDir(uploadPolicy: WANTU.Policy, localDir: string, remoteDir: string | null, callback: WANTU.Callback): void;
    uploadDir(
        uploadPolicy: WANTU.Policy,
        localDir: string,
        remoteDir: string | null,
        options?: WANTU.ManyOptions
    ): Promise<WANTU.Response>;
    /** Files and buffers, each with its own folder, name and meta, in one call. */
    batch(uploadPolicy: WANTU.Policy, jobs: WANTU.BatchJob[], options: WANTU.ManyOptions, callback: WANTU.Callback): void;
    batch(uploadPolicy: WANTU.Policy, jobs: WANTU.BatchJob[], callback: WANTU.Callback): void;
    batch(uploadPolicy: WANTU.Policy, jobs: WANTU.BatchJob[], options?: WANTU.ManyOptions): Promise<WANTU.Response>;
    /** A stored file to localPath: parallel ranges, MD5 checked, renamed into place only when complete. */
    download(
        namespace: string,
        dir: string | null,
        name: string,
        localPath: string,
        options: WANTU.DownloadOptions,
        callback: WANTU.Callback
    ): void;
    download(namespace: string, dir: string | null, name: string, localPath: string, callback: WANTU.Callback): void;
    download(
        namespace: string,
        dir: string | null,
        name: string,
        localPath: string,
        options?: WANTU.DownloadOptions
    ): Promise<WANTU.Response>;
    /** A stored file's bytes (or start…end of them) as `res.content`; the whole file is MD5 checked. */
    downloadContent(
        namespace: string,
        dir: string | null,
        name: string,
        options: WANTU.ContentOptions,
        callback: WANTU.ContentCallback
    ): void;
    downloadContent(namespace: string, dir: string | null, name: string, callback: WANTU.ContentCallback): void;
    downloadContent(
        namespace: string,
        dir: string | null,
        name: string,
        options?: WANTU.ContentOptions
    ): Promise<WANTU.ContentResponse>;
    /** A stored file (or start…end of it) as a stream.Readable of range reads. */
    createReadStream(
        namespace: string,
        dir: string | null,
        name: string,
        options?: WANTU.ReadStreamOptions
    ): WANTU.ReadStream;
    /** Every file under remoteDir into localDir, keeping the folders. */
    downloadDir(
        namespace: string,
        remoteDir: string,
        localDir: string,
        options: WANTU.DownloadDirOptions,
        callback: WANTU.Callback
    ): void;
    downloadDir(namespace: string, remoteDir: string, localDir: string, callback: WANTU.Callback): void;
    downloadDir(
        namespace: string,
        remoteDir: string,
        localDir: string,
        options?: WANTU.DownloadDirOptions
    ): Promise<WANTU.Response>;

    static WANTU: typeof WANTU;
    static WantuError: typeof WantuError;
    /** The loaded libwantu's version, e.g. "0.1.0". */
    static version(): string;
    /** The path of the libwantu this package loaded. */
    static libraryPath(): string;
}

/** Thrown by the constructor when libwantu refuses its arguments. */
declare class WantuError extends Error {
    /** The library's error JSON: `{ code: 0, error, message }`. */
    readonly result: { code: number; error?: string; message?: string; [key: string]: unknown };
}

export = WANTU;
