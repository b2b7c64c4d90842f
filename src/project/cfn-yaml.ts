/**
 * @module
 * YAML parsing that understands CloudFormation's short-form tags (`!Ref X`, `!GetAtt A.B`,
 * `!Sub '…'`, `!Join [',', […]]` …). Each tag becomes the long form (`{ Ref: 'X' }`,
 * `{ 'Fn::GetAtt': ['A', 'B'] }`) so SAM templates and serverless.yml `resources` read the same
 * whichever form the user wrote. Syntax errors become problems with a line number.
 */
import { Pair, parseDocument, Scalar, YAMLMap } from 'yaml';
import type { CollectionTag, ScalarTag, YAMLSeq } from 'yaml';
import type { ProblemList } from './problems.ts';

/** Short tag name → long-form key. `!Ref` and `!Condition` keep their bare names, as CloudFormation does. */
const TAGS: Readonly<Record<string, string>> = {
  Ref: 'Ref',
  Condition: 'Condition',
  GetAtt: 'Fn::GetAtt',
  Sub: 'Fn::Sub',
  Join: 'Fn::Join',
  If: 'Fn::If',
  Select: 'Fn::Select',
  Split: 'Fn::Split',
  FindInMap: 'Fn::FindInMap',
  ImportValue: 'Fn::ImportValue',
  Base64: 'Fn::Base64',
  GetAZs: 'Fn::GetAZs',
  Equals: 'Fn::Equals',
  And: 'Fn::And',
  Or: 'Fn::Or',
  Not: 'Fn::Not',
  Cidr: 'Fn::Cidr',
  Length: 'Fn::Length',
  ToJsonString: 'Fn::ToJsonString',
  Transform: 'Fn::Transform',
};

function wrap(key: string, node: YAMLMap.Parsed | YAMLSeq.Parsed): YAMLMap {
  // Kept as AST so nested tags inside the collection are turned into JS by the same pass.
  const map = new YAMLMap();
  map.items.push(new Pair(new Scalar(key), node));
  return map;
}

function scalarTag(name: string, key: string): ScalarTag {
  return {
    tag: `!${name}`,
    resolve(value: string): unknown {
      // `!GetAtt Res.Attr` is the only short form whose scalar splits into a list.
      if (key === 'Fn::GetAtt') {
        const dot = value.indexOf('.');
        return { [key]: dot === -1 ? [value] : [value.slice(0, dot), value.slice(dot + 1)] };
      }
      return { [key]: value };
    },
  };
}

function collectionTag(name: string, key: string, collection: 'map' | 'seq'): CollectionTag {
  return { tag: `!${name}`, collection, resolve: (node) => wrap(key, node) };
}

/** The customTags list for `yaml`: each short form as scalar, sequence and mapping. */
export const CFN_TAGS: (ScalarTag | CollectionTag)[] = Object.entries(TAGS).flatMap(([name, key]) => [
  scalarTag(name, key),
  collectionTag(name, key, 'seq'),
  collectionTag(name, key, 'map'),
]);

/**
 * Parses YAML (or JSON, which is YAML) with CloudFormation tags; returns undefined after
 * recording problems when the text does not parse. Merge keys (`<<: *base`) are allowed because
 * serverless users share settings that way.
 */
export function parseCfnYaml(text: string, problems: ProblemList): unknown {
  const doc = parseDocument(text, { customTags: CFN_TAGS, merge: true, prettyErrors: true, uniqueKeys: true });
  // One syntax slip cascades into many parser errors; the first few locate it.
  for (const e of doc.errors.slice(0, 3)) {
    const line = e.linePos?.[0].line;
    const message = (e.message.split('\n')[0] ?? e.message).replace(/ at line \d+, column \d+:?$/, '');
    problems.error('', `${line === undefined ? '' : `line ${line}: `}${message}`, 'fix the YAML syntax');
  }
  if (doc.errors.length > 0) return undefined;
  return doc.toJS({ maxAliasCount: 1000 });
}
