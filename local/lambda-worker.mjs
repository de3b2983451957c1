// One published version of the local Lambda: loads its bundle in this worker, so module state stays per version.

import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';

const bundle = await import(pathToFileURL(workerData.bundlePath).href);

parentPort.on('message', async ({ id, event, context }) => {
  try {
    const payload = await bundle.handler(event, context);
    parentPort.postMessage({ id, payload: payload ?? null });
  } catch (error) {
    parentPort.postMessage({
      id,
      error: {
        errorType: error instanceof Error ? error.name : 'Error',
        errorMessage: error instanceof Error ? error.message : String(error),
      },
    });
  }
});
parentPort.postMessage({ ready: true });
