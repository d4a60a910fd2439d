// One download, for every file fetched from a URL (a dataset zip in the page or the command line, a
// model in the page): it gives up when the server stops sending, refuses a file larger than its cap
// before and while reading, refuses an HTML or JSON answer before buffering it, lets the caller check
// the first bytes as they arrive, reports progress, and stops when the caller cancels.
// Works in the browser and in Node (global fetch).

/** A server that sends nothing for this long has stalled: a slow link still delivers bytes every few
 *  seconds, while a hung server or a dropped connection would otherwise keep the download open for
 *  minutes (TCP gives up on a silent peer only after its keep-alive and retransmission timeouts). */
export const DOWNLOAD_IDLE_SECONDS = 30;

/** Progress is reported at most this often: every chunk would re-render the page hundreds of times a second. */
const PROGRESS_INTERVAL_MS = 200;

/** Enough of the body's start to tell a web page or JSON from a file (leading blank lines included). */
const SNIFF_BYTES = 64;

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** A failed download, said in words. */
export class DownloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DownloadError';
  }
}

export interface DownloadProgress {
  received: number;
  /** From Content-Length; unknown when the server does not say, or sends the file compressed. */
  total?: number;
  bytesPerSecond: number;
  /** When the total is known and bytes have arrived. */
  secondsLeft?: number;
}

export interface DownloadOptions {
  /** The file wanted, in words, for the messages: "a zip file", "a safetensors file". */
  what: string;
  /** The largest file accepted, in bytes. */
  maxBytes: number;
  signal?: AbortSignal;
  /** Default DOWNLOAD_IDLE_SECONDS. */
  idleSeconds?: number;
  onProgress?: (p: DownloadProgress) => void;
  /**
   * Checks the file's first bytes as they arrive, with the file's size when known: returns how many
   * bytes it needs before it can decide (more than it was given), 0 once they are right, and throws
   * when they are not the file wanted, which stops the download at once.
   */
  checkStart?: (head: Uint8Array, size: number | undefined) => number;
}

export function isHttpUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

/** The URL's last path segment, or `fallback`. */
export function urlFileName(url: string, fallback: string): string {
  return decodeURIComponent(new URL(url).pathname.split('/').pop() || fallback);
}

export function formatBytes(n: number): string {
  if (n >= GiB) return `${(n / GiB).toFixed(2)} GiB`;
  if (n >= MiB) return `${(n / MiB).toFixed(1)} MiB`;
  return n >= 1024 ? `${Math.round(n / 1024)} KiB` : `${Math.round(n)} bytes`;
}

const why = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** What a Content-Type or the body's first bytes say the answer is, when it is a page or JSON. */
function textAnswer(contentType: string | null, head?: Uint8Array): string | undefined {
  if (contentType && /^\s*(text\/html|application\/xhtml\+xml)/i.test(contentType)) return 'an HTML page (a login or error page?)';
  if (contentType && /^\s*application\/([\w.+-]+\+)?json/i.test(contentType)) return 'JSON (an API answer?)';
  // Binary files have a NUL among their first 8 bytes (a zip's signature is followed by its version,
  // a safetensors header length below 2^32 has zeros in its upper bytes); text has none.
  if (!head || head.subarray(0, 8).includes(0)) return undefined;
  const start = String.fromCharCode(...head.subarray(0, SNIFF_BYTES)).replace(/^(\xEF\xBB\xBF)?\s*/, '').toLowerCase();
  if (start.startsWith('<!doctype') || start.startsWith('<html')) return 'an HTML page (a login or error page?)';
  if (start.startsWith('{') || start.startsWith('[')) return 'JSON (an API answer?)';
  return undefined;
}

/** The first `n` bytes of `parts`, in one array. */
function firstBytes(parts: Uint8Array[], n: number): Uint8Array {
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    if (at >= n) break;
    const take = p.subarray(0, n - at);
    out.set(take, at);
    at += take.length;
  }
  return out;
}

/** Reports progress at most every PROGRESS_INTERVAL_MS (the latest figures once the interval is up, so
 *  that bytes before a stall are shown), and at once when `force` is set; `stop` drops what is pending. */
function progressMeter(onProgress: ((p: DownloadProgress) => void) | undefined) {
  const started = performance.now();
  let reported = -Infinity;
  let pending: ReturnType<typeof setTimeout> | undefined;
  let latest = { received: 0, total: undefined as number | undefined };
  const emit = () => {
    pending = undefined;
    reported = performance.now();
    const { received, total } = latest;
    const bytesPerSecond = received / Math.max((reported - started) / 1000, 1e-3);
    const secondsLeft = total !== undefined && received > 0 ? Math.max(total - received, 0) / bytesPerSecond : undefined;
    onProgress?.({ received, total, bytesPerSecond, secondsLeft });
  };
  const stop = () => clearTimeout(pending);
  const report = (received: number, total: number | undefined, force: boolean) => {
    latest = { received, total };
    const wait = reported + PROGRESS_INTERVAL_MS - performance.now();
    if (force || wait <= 0) {
      stop();
      emit();
    } else pending ??= setTimeout(emit, wait);
  };
  return { report, stop };
}

/** Downloads `url` whole; throws a DownloadError saying why it stopped, or what `checkStart` threw. */
export async function download(url: string, o: DownloadOptions): Promise<Blob> {
  if (!isHttpUrl(url)) throw new DownloadError(`'${url}' is not an http(s) URL`);
  const idleSeconds = o.idleSeconds ?? DOWNLOAD_IDLE_SECONDS;
  const tooLarge = (size: string) => new DownloadError(`the file is larger than ${formatBytes(o.maxBytes)}, the most accepted for ${o.what} (${size})`);
  const notFile = (answer: string) => new DownloadError(`the address returned ${answer}, not ${o.what}`);

  const controller = new AbortController();
  const cancel = () => controller.abort(new DownloadError('cancelled'));
  if (o.signal?.aborted) cancel();
  o.signal?.addEventListener('abort', cancel);
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Armed before the request too: a server that accepts the connection and never answers has stalled as well.
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => controller.abort(new DownloadError(`stopped: no data for ${idleSeconds} s`)), idleSeconds * 1000);
  };
  // A network error, or the reason the download was stopped for (which the network error then is about).
  const failure = (e: unknown, doing: string) => (controller.signal.aborted ? controller.signal.reason : new DownloadError(`${doing} (${why(e)})`));
  const { report, stop: stopReports } = progressMeter(o.onProgress);

  try {
    arm();
    report(0, undefined, true);
    let response: Response;
    try {
      response = await fetch(url, { signal: controller.signal });
    } catch (e) {
      throw failure(e, `cannot fetch ${url}`);
    }
    if (!response.ok || !response.body) throw new DownloadError(`cannot fetch ${url} (HTTP ${response.status} ${response.statusText})`);
    const answer = textAnswer(response.headers.get('content-type'));
    if (answer) throw notFile(answer);
    const length = Number(response.headers.get('content-length')) || undefined;
    // A compressed body's length is not the file's size, but the file is at least that large.
    if (length !== undefined && length > o.maxBytes) throw tooLarge(`${formatBytes(length)} by its Content-Length`);
    const encoded = (response.headers.get('content-encoding') ?? 'identity').toLowerCase() !== 'identity';
    const total = encoded ? undefined : length;
    report(0, total, true);

    const parts: Uint8Array[] = [];
    let received = 0;
    // Bytes the start checks need before they can decide; 0 once they have.
    let want = SNIFF_BYTES;
    const checkStart = (n: number, size: number | undefined) => {
      const head = firstBytes(parts, n);
      const text = textAnswer(null, head);
      if (text) throw notFile(text);
      return o.checkStart?.(head, size) ?? 0;
    };
    const reader = response.body.getReader();
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (e) {
        throw failure(e, `the download of ${url} broke off`);
      }
      if (controller.signal.aborted) throw controller.signal.reason;
      if (chunk.done) break;
      arm();
      received += chunk.value.length;
      if (received > o.maxBytes) throw tooLarge(`${formatBytes(received)} received so far`);
      parts.push(chunk.value);
      if (want && received >= want) want = checkStart(want, total);
      report(received, total, false);
    }
    if (want) checkStart(received, received);
    report(received, total, true);
    return new Blob(parts as BlobPart[]);
  } catch (e) {
    const error = controller.signal.aborted ? controller.signal.reason : e;
    controller.abort(error); // stops reading the body when a check refused it
    throw error;
  } finally {
    clearTimeout(timer);
    stopReports();
    o.signal?.removeEventListener('abort', cancel);
  }
}
