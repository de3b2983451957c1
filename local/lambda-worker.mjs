// One published version of the local Lambda: loads its bundle in this worker, so module state stays per version.

import { closeSync, fstatSync, openSync, renameSync, statSync, writeSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

// The application's logs and EMF lines go straight to the log file from here. A worker's own stdout is a stream to
// the main thread, one message per write; that hop cost more CPU per request than the rest of the gateway.
// Lines are kept in order and written once per invocation, before its reply, so a reply never outruns its logs.
// The file is capped: past maxBytes it becomes `<file>.1` (replacing the one before) and a new file starts, so the
// logs take at most about twice maxBytes. Every worker appends to the same path; one that finds the path renamed
// from under it reopens it. Checked once per maxBytes/16 written by this worker, not on every write.
const { logFile, logMaxBytes } = workerData;
let logFd = logFile ? openSync(logFile, 'a', 0o600) : undefined;
let writtenSinceCheck = 0;
let buffered = [];
function rotateWhenFull() {
  const onPath = statSync(logFile, { throwIfNoEntry: false });
  if (onPath && onPath.ino === fstatSync(logFd).ino) {
    if (onPath.size < logMaxBytes) return;
    renameSync(logFile, `${logFile}.1`);
  }
  closeSync(logFd);
  logFd = openSync(logFile, 'a', 0o600);
}
function flush() {
  if (logFd !== undefined && buffered.length > 0) {
    const text = buffered.join('');
    writeSync(logFd, text);
    writtenSinceCheck += text.length;
    if (writtenSinceCheck >= logMaxBytes / 16) {
      writtenSinceCheck = 0;
      rotateWhenFull();
    }
  }
  buffered = [];
}
function capture(chunk, encoding, callback) {
  if (logFd !== undefined) buffered.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
  const done = typeof encoding === 'function' ? encoding : callback;
  if (typeof done === 'function') done();
  return true;
}
process.stdout.write = capture;
process.stderr.write = capture;

const bundle = await import(pathToFileURL(workerData.bundlePath).href);
flush();

// Duration is measured in here, around the handler only, as Lambda's Duration metric is.
parentPort.on('message', async ({ id, event, context, close }) => {
  if (close) {
    flush();
    if (logFd !== undefined) closeSync(logFd);
    parentPort.postMessage({ closed: true });
    return;
  }
  const started = performance.now();
  try {
    const payload = await bundle.handler(event, context);
    const durationMs = performance.now() - started;
    flush();
    parentPort.postMessage({ id, payload: payload ?? null, durationMs });
  } catch (error) {
    const durationMs = performance.now() - started;
    flush();
    parentPort.postMessage({
      id,
      durationMs,
      error: {
        errorType: error instanceof Error ? error.name : 'Error',
        errorMessage: error instanceof Error ? error.message : String(error),
      },
    });
  }
});
parentPort.postMessage({ ready: true });
