// Compiles the engine once before any test file runs, so `npx vitest` works from a clean clone.
// CI builds it first (npm run build) and sets SKIP_ASC=1.
import asc from 'assemblyscript/asc';

export default async function setup(): Promise<void> {
  if (process.env.SKIP_ASC === '1') return;
  for (const target of ['release', 'baseline']) {
    const { error, stderr } = await asc.main(['--target', target]);
    if (error) throw new Error(`asc --target ${target} failed: ${error.message}\n${stderr.toString()}`);
  }
}
