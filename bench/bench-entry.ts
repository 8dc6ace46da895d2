/**
 * True when `mod` is the program being run: directly, or as the file named to
 * `node tools/run.js <file>` (which requires it). Benches use it so importing
 * one from `run-all` does not start it.
 */
export function isEntryPoint(mod: NodeModule): boolean {
  if (require.main === mod) return true;
  const main = require.main;
  return !!main && /[\\/]tools[\\/]run\.js$/.test(main.filename) && main.children.includes(mod);
}
