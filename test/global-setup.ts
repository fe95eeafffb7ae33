/** Says which Node runs the suite, since CI runs it on more than one line; workers inherit it. */
export default function setup(): void {
  console.log(`vitest on Node ${process.version} (${process.execPath})`);
}
