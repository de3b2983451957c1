// A keep-alive HTTP client in a process of its own, so the server's CPU (read with process.cpuUsage in the bench)
// holds none of the client's. Usage: node bench/http-client.mjs <url> <requests> <concurrency>; prints the 2xx count.
import { Agent, request } from 'node:http';

const [url, total, concurrency] = [process.argv[2], Number(process.argv[3]), Number(process.argv[4])];
const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
let started = 0;
let ok = 0;
function one() {
  if (started >= total) return Promise.resolve();
  started += 1;
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      if (res.statusCode >= 200 && res.statusCode < 300) ok += 1;
      res.resume();
      res.on('end', resolve);
    });
    req.on('error', reject);
    req.end();
  }).then(one);
}
await Promise.all(Array.from({ length: concurrency }, one));
agent.destroy();
process.stdout.write(`${ok}\n`);
