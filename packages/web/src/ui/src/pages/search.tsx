import { useEffect, useRef, useState } from 'preact/hooks';
import { Link, useLocation, useSearch } from 'wouter-preact';
import { ErrorNote, Loading, Time, useTitle } from '../components';
import { formatBytes } from '../format';
import type { RecipeList, Stats } from '../types';
import { versionHref } from './recipe';
import { useApi } from '../use-api';

const PER_PAGE = 50;
const DEBOUNCE_MS = 200;

function recipeHref(name: string): string {
  return `/recipes/${encodeURIComponent(name)}`;
}

/** Arrow keys move between the search box and the results. */
function moveFocus(event: KeyboardEvent, list: HTMLElement | null, input: HTMLInputElement | null) {
  if (event.key !== 'ArrowDown' && event.key !== 'ArrowUp') return;
  const links = Array.from(list?.querySelectorAll<HTMLAnchorElement>('a.result') ?? []);
  if (links.length === 0) return;
  const index = links.indexOf(document.activeElement as HTMLAnchorElement);
  event.preventDefault();
  if (event.key === 'ArrowDown') links[Math.min(index + 1, links.length - 1)]!.focus();
  else if (index <= 0) input?.focus();
  else links[index - 1]!.focus();
}

/** `name/version[@user/channel]` into the parts of a page route. */
function referenceParts(reference: string): [string, string, string | null, string | null] | undefined {
  const match = /^([^/@#]+)\/([^/@#]+)(?:@([^/@#]+)\/([^/@#]+))?$/.exec(reference);
  return match ? [match[1]!, match[2]!, match[3] ?? null, match[4] ?? null] : undefined;
}

/** Totals (given only to callers who may read everything) and the latest publications. */
function Overview({ showRecent }: { showRecent: boolean }) {
  const { data } = useApi<Stats>('stats');
  if (!data) return null;
  const recent = showRecent ? (data.recent ?? []) : [];
  return (
    <>
      {typeof data.recipes === 'number' && (
        <p class="muted totals">
          {data.recipes} recipes · {data.revisions ?? 0} revisions · {data.binaries ?? 0} binaries
          {typeof data.bytes === 'number' ? ` · ${formatBytes(data.bytes)}` : ''}
        </p>
      )}
      {recent.length > 0 && (
        <section aria-labelledby="recent-heading" class="recent">
          <h2 id="recent-heading">Recently published</h2>
          <ul>
            {recent.slice(0, 8).map((r) => {
              const parts = referenceParts(r.reference);
              return (
                <li key={`${r.reference}#${r.revision}`}>
                  {parts ? (
                    <Link href={`${versionHref(...parts)}/${encodeURIComponent(r.revision)}`}>{r.reference}</Link>
                  ) : (
                    r.reference
                  )}{' '}
                  <Time iso={r.time} />
                </li>
              );
            })}
          </ul>
        </section>
      )}
    </>
  );
}

/** Search as you type: the query lives in `?q=` so that a search can be linked and the back button works. */
export function SearchPage() {
  const search = useSearch();
  const [, navigate] = useLocation();
  const params = new URLSearchParams(search);
  const q = params.get('q') ?? '';
  const page = Math.max(1, Number(params.get('page')) || 1);
  const [typed, setTyped] = useState(q);
  const input = useRef<HTMLInputElement>(null);
  const list = useRef<HTMLUListElement>(null);
  useTitle(q ? `Search: ${q}` : '');

  // The URL follows the box after a pause, so each keystroke does not cost a request.
  useEffect(() => {
    if (typed === q) return;
    const timer = setTimeout(() => {
      const next = typed ? `?q=${encodeURIComponent(typed)}` : '';
      navigate(`/${next}`, { replace: true });
    }, DEBOUNCE_MS);
    return () => clearTimeout(timer);
  }, [typed]);

  useEffect(() => {
    const slash = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement;
      if (event.key === '/' && !/^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) {
        event.preventDefault();
        input.current?.focus();
      }
    };
    document.addEventListener('keydown', slash);
    return () => document.removeEventListener('keydown', slash);
  }, []);

  const { data, error, loading } = useApi<RecipeList>(
    `recipes?q=${encodeURIComponent(q)}&page=${page}&perPage=${PER_PAGE}`,
  );
  const pages = data ? Math.max(1, Math.ceil(data.total / data.perPage)) : 1;
  const pageHref = (n: number) => `/?${new URLSearchParams({ ...(q ? { q } : {}), page: String(n) })}`;

  return (
    <>
      <h1>Find a package</h1>
      <form role="search" class="search" onSubmit={(e) => e.preventDefault()}>
        <label for="q">Recipe name or pattern</label>
        <input
          id="q"
          ref={input}
          type="search"
          value={typed}
          autoFocus
          autoComplete="off"
          spellcheck={false}
          placeholder="zlib, boost*, *ssl*"
          aria-describedby="q-help"
          aria-controls="results"
          onInput={(e) => setTyped((e.target as HTMLInputElement).value)}
          onKeyDown={(e) => moveFocus(e, list.current, input.current)}
        />
        <p id="q-help" class="muted small">
          A word finds the names that start with it; <code>*</code> and <code>?</code> are wildcards. Press <kbd>/</kbd>{' '}
          to come back here, <kbd>↓</kbd> to go through the results.
        </p>
      </form>
      {error && <ErrorNote error={error} />}
      {loading && !data && <Loading />}
      <Overview showRecent={q === '' && page === 1} />
      {data && (
        <section aria-labelledby="results-heading">
          <h2 id="results-heading" class="small-heading" aria-live="polite">
            {data.total === 0 ? 'No recipe found' : `${data.total} recipe${data.total === 1 ? '' : 's'}`}
          </h2>
          <ul id="results" class="results" ref={list} onKeyDown={(e) => moveFocus(e, list.current, input.current)}>
            {data.items.map((item) => (
              <li key={item.name}>
                <Link class="result" href={recipeHref(item.name)}>
                  <span class="result-name">{item.name}</span>
                  <span class="result-meta">
                    <span>{item.latest.reference}</span>
                    <span>
                      {item.versions} version{item.versions === 1 ? '' : 's'}
                    </span>
                    <Time iso={item.latest.time} />
                  </span>
                </Link>
              </li>
            ))}
          </ul>
          {pages > 1 && (
            <nav class="pager" aria-label="Result pages">
              {page > 1 && <Link href={pageHref(page - 1)}>Previous</Link>}
              <span>
                Page {page} of {pages}
              </span>
              {page < pages && <Link href={pageHref(page + 1)}>Next</Link>}
            </nav>
          )}
        </section>
      )}
    </>
  );
}
