import { useMemo, useState } from 'preact/hooks';
import { Scroll, Time } from '../components';
import { formatBytes } from '../format';
import type { Binary } from '../types';

/** Settings people filter by first; the others follow in name order. */
const SETTING_ORDER = ['os', 'arch', 'compiler', 'compiler.version', 'compiler.libcxx', 'compiler.cppstd', 'compiler.runtime', 'build_type'];

function orderedKeys(keys: Set<string>, order: string[]): string[] {
  const rank = (k: string) => {
    const i = order.indexOf(k);
    return i < 0 ? order.length : i;
  };
  return [...keys].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

interface Column {
  id: string;
  kind: 'settings' | 'options';
  key: string;
  label: string;
}

/** Binaries of a recipe revision: a column per setting and option, a filter per column with several values. */
export function BinariesTable({ binaries }: { binaries: Binary[] }) {
  const columns = useMemo<Column[]>(() => {
    const settings = new Set<string>();
    const options = new Set<string>();
    for (const b of binaries) {
      Object.keys(b.settings).forEach((k) => settings.add(k));
      Object.keys(b.options).forEach((k) => options.add(k));
    }
    return [
      ...orderedKeys(settings, SETTING_ORDER).map((key) => ({ id: `s:${key}`, kind: 'settings' as const, key, label: key })),
      ...orderedKeys(options, ['shared', 'fPIC']).map((key) => ({ id: `o:${key}`, kind: 'options' as const, key, label: `option ${key}` })),
    ];
  }, [binaries]);
  const values = useMemo(() => {
    const map = new Map<string, string[]>();
    for (const c of columns) {
      map.set(c.id, [...new Set(binaries.map((b) => b[c.kind][c.key] ?? ''))].sort());
    }
    return map;
  }, [binaries, columns]);
  const [filters, setFilters] = useState<Record<string, string>>({});
  const shown = binaries.filter((b) => columns.every((c) => !filters[c.id] || (b[c.kind][c.key] ?? '') === filters[c.id]));
  const filterable = columns.filter((c) => (values.get(c.id)?.length ?? 0) > 1);

  if (binaries.length === 0) return <p class="muted">No binary uploaded for this revision.</p>;
  return (
    <>
      {filterable.length > 0 && (
        <fieldset class="filters">
          <legend>Filter binaries</legend>
          {filterable.map((c, i) => (
            <div class="field" key={c.id}>
              <label for={`filter-${i}`}>{c.label}</label>
              <select
                id={`filter-${i}`}
                value={filters[c.id] ?? ''}
                onChange={(e) => setFilters({ ...filters, [c.id]: (e.target as HTMLSelectElement).value })}
              >
                <option value="">any</option>
                {values.get(c.id)!.map((v) => (
                  <option key={v} value={v}>
                    {v === '' ? '(not set)' : v}
                  </option>
                ))}
              </select>
            </div>
          ))}
          {Object.values(filters).some(Boolean) && (
            <button type="button" onClick={() => setFilters({})}>
              Clear filters
            </button>
          )}
        </fieldset>
      )}
      <p class="muted small" aria-live="polite">
        {shown.length} of {binaries.length} binar{binaries.length === 1 ? 'y' : 'ies'}
      </p>
      <Scroll label="Binaries">
        <table class="binaries">
          <thead>
            <tr>
              <th scope="col">Package ID</th>
              {columns.map((c) => (
                <th scope="col" key={c.id}>
                  {c.label}
                </th>
              ))}
              <th scope="col">Requires</th>
              <th scope="col">Latest package revision</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((b) => {
              const latest = b.revisions[0];
              const size = latest?.files?.reduce((sum, f) => sum + f.size, 0);
              return (
                <tr key={b.packageId}>
                  <td>
                    <code title={b.packageId}>{b.packageId.slice(0, 12)}</code>
                  </td>
                  {columns.map((c) => (
                    <td key={c.id}>{b[c.kind][c.key] ?? ''}</td>
                  ))}
                  <td>{b.requires.join(', ')}</td>
                  <td>
                    {latest ? (
                      <>
                        <code>{latest.revision.slice(0, 12)}</code> <Time iso={latest.time} />
                        {size === undefined ? '' : ` · ${formatBytes(size)}`}
                      </>
                    ) : (
                      ''
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </Scroll>
    </>
  );
}
