// Serves dist/ on localhost (cross-origin isolated: COOP/COEP headers), building it first.
//   npm run example:browser     (from the repository root)  → http://localhost:8080/
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.json': 'application/json', '.wasm': 'application/wasm', '.bin': 'application/octet-stream', '.map': 'application/json' };

/**
 * Starts a static server for `root` on `port` (0 = any free port); resolves to { url, close }.
 * `isolated: false` leaves out the COOP/COEP headers (a page that is not cross-origin isolated).
 */
export function serve(root, port = 0, { isolated = true } = {}) {
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const rel = normalize(decodeURIComponent(url.pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(root, rel.endsWith('/') ? `${rel}index.html` : rel);
    if (!file.startsWith(root)) return void res.writeHead(403).end();
    try {
      const body = await readFile(file);
      const isolation = isolated ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {};
      res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream', ...isolation });
      res.end(body);
    } catch {
      res.writeHead(404).end('not found');
    }
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((r) => server.close(r)) })));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await import('./build.mjs');
  const { url } = await serve(fileURLToPath(new URL('dist', import.meta.url)), Number(process.env.PORT ?? 8080));
  console.log(`browser-explain: open ${url} (WebGL; ${url}?backend=wasm for wasm). Ctrl-C stops.`);
}
