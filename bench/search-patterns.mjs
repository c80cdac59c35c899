#!/usr/bin/env node
// Search pattern matching: the linear-time fnmatch matcher of @cimmeria/core
// against the RegExp translation it replaced (the baseline, copied below),
// on the same recipe references in the same run. Then the worst patterns a
// caller may send, which the RegExp could not finish. In-process, no server.
//
// Last, whole searches through the service on SQLite, watching how long the
// event loop stays blocked (other requests wait that long).
//
//   node bench/search-patterns.mjs [--refs N] [--rounds N] [--stored N]
//
// See bench/README.md.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  MAX_PATTERN_LENGTH,
  PasswordAuthenticator,
  StaticUsers,
  TokenService,
  createRegistry,
  recipeMatcher,
} from '@cimmeria/core';
import { createSqliteMetadataStore } from '@cimmeria/metadata-sqlite';
import { FsBlobStore } from '@cimmeria/storage-fs';
import { longestBlock } from './lib/event-loop.mjs';

const { values: flags } = parseArgs({
  options: {
    refs: { type: 'string', default: '10000' },
    rounds: { type: 'string', default: '7' },
    stored: { type: 'string', default: '5000' },
  },
});
const REFS = Number(flags.refs);
const ROUNDS = Number(flags.rounds);
const STORED = Number(flags.stored);

// --- the baseline: the RegExp translation used before ------------------------

function fnmatchToRegExp(pattern, ignoreCase = false) {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close === -1) {
        source += '\\[';
        continue;
      }
      let body = pattern.slice(i + 1, close);
      const negate = body.startsWith('!');
      if (negate) body = body.slice(1);
      source += `[${negate ? '^' : ''}${body.replace(/[\\^\]]/g, '\\$&')}]`;
      i = close;
    } else source += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's');
}

function regexpRecipeMatcher(pattern, ignoreCase) {
  const regexp = fnmatchToRegExp(pattern, ignoreCase);
  return (ref) => {
    const base = [ref.name, `${ref.name}/`, `${ref.name}/${ref.version}`];
    if (ref.user === undefined) return base.some((p) => regexp.test(p));
    const withAt = `${ref.name}/${ref.version}@`;
    return [...base, withAt, `${withAt}${ref.user}`, `${withAt}${ref.user}/`, `${withAt}${ref.user}/${ref.channel}`].some(
      (p) => regexp.test(p),
    );
  };
}

// --- references ----------------------------------------------------------------

const NAMES = ['zlib', 'openssl', 'boost', 'fmt', 'spdlog', 'libcurl', 'protobuf', 'grpc', 'abseil', 'catch2'];
/** Realistic references: short names, half of them with user/channel. */
const typical = Array.from({ length: REFS }, (_, i) => {
  const name = `${NAMES[i % NAMES.length]}${i >= NAMES.length ? `-${i}` : ''}`;
  const version = `${1 + (i % 3)}.${i % 17}.${i % 5}`;
  return i % 2 === 0 ? { name, version } : { name, version, user: i % 4 === 1 ? 'corp' : 'team', channel: 'stable' };
});
/** The longest references there can be: four parts of 101 characters. */
const longest = Array.from({ length: REFS }, (_, i) => ({
  name: `lib${i}`.padEnd(101, 'x'),
  version: '1.0.0'.padEnd(101, '0'),
  user: 'u'.repeat(101),
  channel: 'c'.repeat(101),
}));

/** Median ms of one pass of `make(pattern)` over `refs`, and how many matched. */
function measure(make, pattern, refs) {
  const times = [];
  let matched = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    const matches = make(pattern, true);
    matched = 0;
    for (const ref of refs) if (matches(ref)) matched++;
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return { ms: times[times.length >> 1], matched };
}

const fmt = (ms) => ms.toFixed(1).padStart(8);
console.log(`${REFS} references, median of ${ROUNDS} rounds, ignorecase on (the search default)\n`);

console.log('Patterns people send: fnmatch matcher against the RegExp baseline');
console.log('pattern                refs       regexp ms  matcher ms  ratio matcher/regexp  matched');
for (const [pattern, refs, label] of [
  ['*', typical, 'typical'],
  ['zlib*', typical, 'typical'],
  ['*@corp/*', typical, 'typical'],
  ['open*/3.*', typical, 'typical'],
  ['[a-f]*', typical, 'typical'],
  ['*', longest, 'longest'],
  ['lib1*', longest, 'longest'],
  ['*1.0*', longest, 'longest'],
]) {
  const regexp = measure(regexpRecipeMatcher, pattern, refs);
  const matcher = measure(recipeMatcher, pattern, refs);
  if (regexp.matched !== matcher.matched) throw new Error(`${pattern}: regexp matched ${regexp.matched}, matcher ${matcher.matched}`);
  console.log(
    `${pattern.padEnd(22)} ${label.padEnd(8)} ${fmt(regexp.ms)}    ${fmt(matcher.ms)}    ${(matcher.ms / regexp.ms).toFixed(2).padStart(18)}  ${String(matcher.matched).padStart(7)}`,
  );
}

console.log(`\nHostile patterns (the RegExp baseline takes seconds to forever on these; ${MAX_PATTERN_LENGTH} characters at most)`);
console.log('pattern                          length  refs      matcher ms  µs per ref');
const fill = (unit, tail) => unit.repeat(Math.floor((MAX_PATTERN_LENGTH - tail.length) / unit.length)) + tail;
for (const [pattern, refs, label] of [
  ['*'.repeat(20) + '#', typical, 'typical'],
  ['*'.repeat(20) + '#', longest, 'longest'],
  [fill('*a', '#'), longest, 'longest'],
  [fill('*?', '#'), longest, 'longest'],
  [fill('*[a-z]', '#'), longest, 'longest'],
  [fill('*[!#]', '#'), longest, 'longest'],
]) {
  const { ms } = measure(recipeMatcher, pattern, refs);
  console.log(
    `${(pattern.length > 30 ? `${pattern.slice(0, 26)}...` : pattern).padEnd(32)} ${String(pattern.length).padStart(6)}  ${label.padEnd(8)} ${fmt(ms)}    ${((ms * 1000) / refs.length).toFixed(2).padStart(8)}`,
  );
}

console.log('\nStars + "#" on one reference (hello/1.0@user/channel): the RegExp baseline grows exponentially, the matcher does not');
console.log('pattern              regexp ms  matcher ms');
const one = [{ name: 'hello', version: '1.0', user: 'user', channel: 'channel' }];
for (let stars = 4; stars <= 12; stars++) {
  const pattern = `${'*'.repeat(stars)}#`;
  const time = (make) => {
    const start = performance.now();
    make(pattern, true)(one[0]);
    return performance.now() - start;
  };
  const regexp = time(regexpRecipeMatcher);
  console.log(`${pattern.padEnd(18)} ${fmt(regexp)}    ${fmt(time(recipeMatcher))}`);
  // Each star multiplies the baseline's time: stop before it takes minutes.
  if (regexp > 1500) break;
}

console.log(`\nWhole searches on SQLite over ${STORED} of the longest references (anonymous, ignorecase): the longest the event loop stayed blocked`);
console.log('pattern                          search ms  longest block ms  block / block of q=*');
const dir = await mkdtemp(join(tmpdir(), 'cimmeria-bench-search-'));
const sqlite = createSqliteMetadataStore({ filename: join(dir, 'metadata.db') });
try {
  await sqlite.store.migrate();
  const registry = createRegistry({
    metadata: sqlite.store,
    blobs: new FsBlobStore({ directory: join(dir, 'blobs') }),
    authenticator: new PasswordAuthenticator(new StaticUsers({})),
    tokens: new TokenService({ secret: 'bench-secret-0123456789' }),
  });
  for (const ref of longest.slice(0, STORED)) {
    const blob = { key: `k-${ref.name}`, size: 1, sha1: 'a'.repeat(40), sha256: 'b'.repeat(64) };
    await sqlite.store.recordFile({ kind: 'recipe', ref: { ...ref, revision: 'a'.repeat(32) } }, 'conanmanifest.txt', blob);
  }
  let baseline;
  for (const pattern of ['*', fill('*?', '#'), fill('*a', '#')]) {
    const runs = [];
    for (let round = 0; round < 3; round++) runs.push(await longestBlock(() => registry.service.search(undefined, pattern, true), 20));
    runs.sort((a, b) => a.longest - b.longest);
    const { duration, longest } = runs[1];
    baseline ??= longest;
    console.log(
      `${(pattern.length > 30 ? `${pattern.slice(0, 26)}...` : pattern).padEnd(32)} ${fmt(duration)}    ${fmt(longest)}          ${(longest / baseline).toFixed(2)}`,
    );
  }
} finally {
  await sqlite.close();
  await rm(dir, { recursive: true, force: true });
}
