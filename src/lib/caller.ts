// The caller's source line: the first stack frame outside dmasim, so that a report made deep in
// the simulator (a device model's DMA at an interleaving point, a hook in the mapping layer)
// names the line of the driver that led to it, as a kernel report's call trace would.

/**
 * dmasim's own code: everything under the directory this module was loaded from, one level up
 * (src/ when running from source, dist/ when bundled: both hold only dmasim).
 */
const OWN_ROOT = ((): string => {
  const url = typeof import.meta.url === 'string' ? import.meta.url : '';
  const cut = Math.max(url.lastIndexOf('/src/'), url.lastIndexOf('/dist/'));
  const root = cut < 0 ? url : url.slice(0, url.indexOf('/', cut + 1) + 1);
  return root.replace(/^file:\/\//, '');
})();

/** A frame's location: "path:line:col" from "    at fn (path:line:col)" or "    at path:line:col". */
function location(frame: string): string {
  const m = /\(([^()]+:\d+:\d+)\)\s*$/.exec(frame) ?? /at (\S+:\d+:\d+)\s*$/.exec(frame);
  return m === null ? '' : (m[1] as string).replace(/^file:\/\//, '');
}

/** The first stack frame outside dmasim and Node's internals ("path:line:col"), or "unknown". */
export function callerLocation(): string {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 64;
  const stack = new Error().stack ?? '';
  Error.stackTraceLimit = limit;
  for (const frame of stack.split('\n').slice(1)) {
    const loc = location(frame);
    if (loc === '' || loc.startsWith('node:') || (OWN_ROOT !== '' && loc.startsWith(OWN_ROOT))) continue;
    return loc;
  }
  return 'unknown';
}
