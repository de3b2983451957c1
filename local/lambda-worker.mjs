// One published version of the local Lambda: loads its bundle in this worker, so module state stays per version.

import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

const bundle = await import(pathToFileURL(workerData.bundlePath).href);

// Duration is measured in here, around the handler only, as Lambda's Duration metric is.
parentPort.on('message', async ({ id, event, context }) => {
  const started = performance.now();
  try {
    const payload = await bundle.handler(event, context);
    parentPort.postMessage({ id, payload: payload ?? null, durationMs: performance.now() - started });
  } catch (error) {
    parentPort.postMessage({
      id,
      durationMs: performance.now() - started,
      error: {
        errorType: error instanceof Error ? error.name : 'Error',
        errorMessage: error instanceof Error ? error.message : String(error),
      },
    });
  }
});
parentPort.postMessage({ ready: true });
