// One download, for every file fetched from a URL (a dataset zip in the page or the command line, a
// model in the page, a zoo model and its config.json in either): it gives up when the server stops
// sending, refuses a file larger than its cap before and while reading, refuses an HTML or JSON answer
// before buffering it, lets the caller check the first bytes as they arrive, reports progress, resumes
// a body that broke off with a Range request when asked to, and stops when the caller cancels. It may
// also fetch one byte range of a file (the tensors of a safetensors file that a model reads).
// Works in the browser and in Node (global fetch, which follows redirects).
import { errorMessage } from '../gpu/error-message.ts';

/** A server that sends nothing for this long has stalled: a slow link still delivers bytes every few
 *  seconds, while a hung server or a dropped connection would otherwise keep the download open for
 *  minutes (TCP gives up on a silent peer only after its keep-alive and retransmission timeouts). */
export const DOWNLOAD_IDLE_SECONDS = 30;

/** Progress is reported at most this often: every chunk would re-render the page hundreds of times a second. */
const PROGRESS_INTERVAL_MS = 200;

/** Enough of the body's start to tell a web page or JSON from a file (leading blank lines included). */
const SNIFF_BYTES = 64;

/** A body that broke off is resumed at most this many times in a row without a byte arriving in
 *  between: a dropped connection comes back at once, a network that stays down is given up on after
 *  the waits below add up to about 15 s. */
const MAX_RESUMES = 5;

/** The wait before resuming, doubled for each resume in a row that brought nothing. */
const RESUME_DELAY_MS = 500;

/** Answers worth asking again after a wait: the server busy, overloaded or restarting. */
const TRANSIENT_STATUS = new Set([408, 429, 500, 502, 503, 504]);

const HTML_ANSWER = 'an HTML page (a login or error page?)';
const JSON_ANSWER = 'JSON (an API answer?)';

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
  /** How many times the body broke off and was resumed where it stopped. */
  resumes: number;
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
  /** Resume a body that breaks off with a Range request, when the server allows it (Accept-Ranges:
   *  bytes, or no word on it); a server that answers the whole file again is read from the start. */
  resume?: boolean;
  /** The file wanted is JSON (a config.json): only an HTML answer is refused. */
  json?: boolean;
  /** Only bytes [start, end) of the file, with Range requests (resumed as they break off); a server
   *  that answers with the whole file is refused with RangesRefused. */
  range?: { start: number; end: number };
  /** The whole file's size, from a range's Content-Range. */
  onFileSize?: (size: number) => void;
}

/** A server that answered a Range request with the whole file: the caller takes the whole file instead. */
export class RangesRefused extends DownloadError {}

/** The longest URL a model or dataset is fetched from, or a share link names. */
export const MAX_URL_LENGTH = 2000;

/** An http:// or https:// address with a host, at most MAX_URL_LENGTH characters, with no spaces or
 *  control characters: what a model or dataset is fetched from, and what a share link may name. */
export function isHttpUrl(s: string): boolean {
  if (s.length > MAX_URL_LENGTH || /[\p{Cc} ]/u.test(s)) return false;
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.hostname !== '';
  } catch {
    return false;
  }
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

const formatSeconds = (s: number) => (s < 90 ? `${Math.ceil(s)} s` : `${Math.round(s / 60)} min`);

/** Progress in words, as the page and the command line show it: received (of the total), rate, time left. */
export function progressText({ received, total, bytesPerSecond, secondsLeft, resumes }: DownloadProgress): string {
  return (
    `${formatBytes(received)}${total === undefined ? '' : ` of ${formatBytes(total)}`}, ${formatBytes(bytesPerSecond)}/s` +
    `${secondsLeft === undefined ? '' : `, ${formatSeconds(secondsLeft)} left`}` +
    `${resumes ? `, resumed ${resumes === 1 ? 'once' : `${resumes} times`}` : ''}`
  );
}

/** What a Content-Type or the body's first bytes say the answer is, when it is a page or JSON. */
function textAnswer(contentType: string | null, head?: Uint8Array): string | undefined {
  if (contentType && /^\s*(text\/html|application\/xhtml\+xml)/i.test(contentType)) return HTML_ANSWER;
  if (contentType && /^\s*application\/([\w.+-]+\+)?json/i.test(contentType)) return JSON_ANSWER;
  // Binary files have a NUL among their first 8 bytes (a zip's signature is followed by its version,
  // a safetensors header length below 2^32 has zeros in its upper bytes); text has none.
  if (!head || head.subarray(0, 8).includes(0)) return undefined;
  const start = String.fromCharCode(...head.subarray(0, SNIFF_BYTES))
    .replace(/^(\xEF\xBB\xBF)?\s*/, '')
    .toLowerCase();
  if (start.startsWith('<!doctype') || start.startsWith('<html')) return HTML_ANSWER;
  if (start.startsWith('{') || start.startsWith('[')) return JSON_ANSWER;
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
  let resumes = 0;
  const emit = () => {
    pending = undefined;
    reported = performance.now();
    const { received, total } = latest;
    const bytesPerSecond = received / Math.max((reported - started) / 1000, 1e-3);
    const secondsLeft =
      total !== undefined && received > 0 ? Math.max(total - received, 0) / bytesPerSecond : undefined;
    onProgress?.({ received, total, bytesPerSecond, secondsLeft, resumes });
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
  return { report, stop, resumed: () => resumes++ };
}

/** Downloads `url` whole; throws a DownloadError saying why it stopped, or what `checkStart` threw. */
export async function download(url: string, o: DownloadOptions): Promise<Blob> {
  if (!isHttpUrl(url)) throw new DownloadError(`'${url}' is not an http(s) URL`);
  const idleSeconds = o.idleSeconds ?? DOWNLOAD_IDLE_SECONDS;
  const tooLarge = (size: string) =>
    new DownloadError(`the file is larger than ${formatBytes(o.maxBytes)}, the most accepted for ${o.what} (${size})`);
  const notFile = (answer: string | undefined) => {
    if (answer !== undefined && !(o.json && answer === JSON_ANSWER))
      throw new DownloadError(`the address returned ${answer}, not ${o.what}`);
  };

  const controller = new AbortController();
  const cancel = () => controller.abort(new DownloadError('cancelled'));
  if (o.signal?.aborted) cancel();
  o.signal?.addEventListener('abort', cancel);
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Armed before each request too: a server that accepts the connection and never answers has stalled as well.
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(
      () => controller.abort(new DownloadError(`stopped: no data for ${idleSeconds} s`)),
      idleSeconds * 1000,
    );
  };
  // A network error, or the reason the download was stopped for (which the network error then is about).
  const failure = (e: unknown, doing: string) =>
    controller.signal.aborted ? controller.signal.reason : new DownloadError(`${doing} (${errorMessage(e)})`);
  const meter = progressMeter(o.onProgress);
  /** Waits before a resume; a cancel ends the wait. */
  const pause = (ms: number) =>
    new Promise<void>((resolve, reject) => {
      clearTimeout(timer);
      const stop = () => (clearTimeout(wait), reject(controller.signal.reason));
      const wait = setTimeout(() => (controller.signal.removeEventListener('abort', stop), resolve()), ms);
      controller.signal.addEventListener('abort', stop, { once: true });
    });

  /** A request that failed but may succeed after a wait: no network, or a server busy or restarting. */
  class Transient extends DownloadError {}
  /** The file from byte `from` on (a Range request past 0), once the server has answered with a body. */
  const request = async (from: number): Promise<Response> => {
    arm();
    let response: Response;
    try {
      const bytes = o.range ? `bytes=${o.range.start + from}-${o.range.end - 1}` : from > 0 ? `bytes=${from}-` : '';
      response = await fetch(url, { signal: controller.signal, ...(bytes && { headers: { range: bytes } }) });
    } catch (e) {
      throw controller.signal.aborted
        ? controller.signal.reason
        : new Transient(`cannot fetch ${url} (${errorMessage(e)})`);
    }
    if (!response.ok || !response.body) {
      const message = `cannot fetch ${url} (HTTP ${response.status} ${response.statusText})`;
      throw TRANSIENT_STATUS.has(response.status) ? new Transient(message) : new DownloadError(message);
    }
    if (o.range) {
      const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(response.headers.get('content-range') ?? '');
      if (response.status !== 206 || !range)
        throw new RangesRefused(`${url} answered a Range request with the whole file (HTTP ${response.status})`);
      if (Number(range[1]) !== o.range.start + from || Number(range[2]) !== o.range.end - 1)
        throw new DownloadError(
          `${url} answered bytes ${range[1]}-${range[2]} for ${o.range.start + from}-${o.range.end - 1}`,
        );
      o.onFileSize?.(Number(range[3]));
    }
    return response;
  };

  try {
    meter.report(0, undefined, true);
    let response = await request(0);
    const parts: Uint8Array[] = [];
    let received = 0;
    let total: number | undefined;
    let resumable = false;
    // Bytes the start checks need before they can decide; 0 once they have.
    let want = SNIFF_BYTES;
    /** Reads the headers of an answer with the whole file. */
    const begin = (r: Response) => {
      notFile(textAnswer(r.headers.get('content-type')));
      const length = Number(r.headers.get('content-length')) || undefined;
      // A compressed body's length is not the file's size, but the file is at least that large.
      if (length !== undefined && length > o.maxBytes) throw tooLarge(`${formatBytes(length)} by its Content-Length`);
      const encoded = (r.headers.get('content-encoding') ?? 'identity').toLowerCase() !== 'identity';
      total = o.range ? o.range.end - o.range.start : encoded ? undefined : length;
      // Accept-Ranges is hidden from a page unless the server exposes it: only "none" rules a resume out.
      resumable = o.resume === true && total !== undefined && r.headers.get('accept-ranges')?.toLowerCase() !== 'none';
      parts.length = 0;
      received = 0;
      // A range in the middle of a file is no file's start.
      want = o.range ? 0 : SNIFF_BYTES;
      meter.report(0, total, true);
    };
    /** Whether a 206 answer continues the file where it broke off, by its Content-Range or, where that
     *  is hidden from a page, by its length. */
    const continues = (r: Response) => {
      if (o.range) return true; // checked by request()
      const range = /^bytes (\d+)-\d+\/(\d+|\*)$/.exec(r.headers.get('content-range') ?? '');
      if (range) return Number(range[1]) === received && (range[2] === '*' || Number(range[2]) === total);
      return Number(r.headers.get('content-length')) === total! - received;
    };
    const checkStart = (n: number, size: number | undefined) => {
      const head = firstBytes(parts, n);
      notFile(textAnswer(null, head));
      return o.checkStart?.(head, size) ?? 0;
    };
    begin(response);
    // Resumes in a row that brought no byte.
    let resumes = 0;
    for (;;) {
      const reader = response.body!.getReader();
      let broke: unknown;
      for (;;) {
        let chunk: ReadableStreamReadResult<Uint8Array>;
        try {
          chunk = await reader.read();
        } catch (e) {
          broke = e;
          break;
        }
        if (controller.signal.aborted) throw controller.signal.reason;
        if (chunk.done) break;
        arm();
        resumes = 0;
        received += chunk.value.length;
        if (received > o.maxBytes) throw tooLarge(`${formatBytes(received)} received so far`);
        parts.push(chunk.value);
        if (want && received >= want) want = checkStart(want, total);
        meter.report(received, total, false);
      }
      if (controller.signal.aborted) throw controller.signal.reason;
      // A body shorter than its Content-Length broke off too, though its connection closed cleanly.
      if (broke === undefined && (total === undefined || received >= total)) break;
      let cause = broke ?? `${formatBytes(received)} of ${formatBytes(total!)}`;
      let next: Response | undefined;
      while (!next) {
        if (!resumable || resumes >= MAX_RESUMES) throw failure(cause, `the download of ${url} broke off`);
        await pause(RESUME_DELAY_MS * 2 ** resumes++);
        try {
          next = await request(received);
        } catch (e) {
          if (!(e instanceof Transient)) throw e;
          cause = e.message;
        }
      }
      response = next;
      if (response.status !== 206)
        begin(response); // the whole file again: read from the start
      else if (continues(response)) meter.resumed();
      else
        throw new DownloadError(
          `the server resumed ${url} elsewhere than where it broke off (byte ${received} of ${total})`,
        );
    }
    if (want) checkStart(received, received);
    meter.report(received, total, true);
    return new Blob(parts as BlobPart[]);
  } catch (e) {
    const error = controller.signal.aborted ? controller.signal.reason : e;
    controller.abort(error); // stops reading the body when a check refused it
    throw error;
  } finally {
    clearTimeout(timer);
    meter.stop();
    o.signal?.removeEventListener('abort', cancel);
  }
}
