// The load generator of `npm run bench`, one process per measured window (bench/load.ts forks it).
// It runs apart from the harness because the harness holds the TypeScript compiler (ts-node) and
// every earlier window's results: its full garbage collections, frequent under autocannon's
// response buffers, stalled the event loop that timestamps responses and added up to 20 ms to
// the p99 of whichever server was being driven. Plain JavaScript, so its own heap stays small.
'use strict';
const autocannon = require('autocannon');

process.once('message', (options) => {
  let latencies = new Float64Array(65536);
  let count = 0;
  // A POST case (Send message): each request its own Idempotency-Key, its path taken in turn from `paths`,
  // `{n}` in the body replaced by the request's number modulo 10000 (four digits).
  let sequence = 0;
  const requests = options.post
    ? [
        {
          method: 'POST',
          setupRequest: (request) => {
            const n = sequence++;
            request.body = options.post.body.replace('{n}', String(n % 10000).padStart(4, '0'));
            request.headers = { ...request.headers, 'content-type': 'application/json', 'idempotency-key': `${options.post.keyPrefix}-${n}` };
            if (options.post.paths) request.path = options.post.paths[n % options.post.paths.length];
            return request;
          },
        },
      ]
    : undefined;
  const instance = autocannon(
    {
      url: options.url,
      headers: options.headers,
      connections: options.connections,
      duration: options.durationSeconds,
      timeout: 10,
      ...(requests ? { requests } : {}),
    },
    (error, result) => {
      if (error) {
        process.send({ error: String(error && error.stack ? error.stack : error) }, () => process.exit(1));
        return;
      }
      const sample = {
        latencies: Array.from(latencies.subarray(0, count)),
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        durationSeconds: result.duration || options.durationSeconds,
      };
      process.send({ sample }, () => process.exit(0));
    },
  );
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    if (statusCode < 200 || statusCode >= 300) return;
    if (count === latencies.length) {
      const grown = new Float64Array(latencies.length * 2);
      grown.set(latencies);
      latencies = grown;
    }
    latencies[count++] = responseTime;
  });
});
