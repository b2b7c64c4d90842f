/**
 * @module
 * A node:test reporter that records, per test file, which tests passed: the raw material of
 * docs/compat.md. Prints one JSON object per line: { file, name, ok }.
 */
import type { TestEvent } from 'node:test/reporters';

export default async function* compatReporter(source: AsyncIterable<TestEvent>): AsyncGenerator<string> {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const data = event.data as { name: string; file?: string; nesting: number; details: { type?: string } };
    if (data.details.type === 'suite' || data.file === undefined) continue;
    yield `${JSON.stringify({ file: data.file, name: data.name, ok: event.type === 'test:pass' })}\n`;
  }
}
