import { useState } from 'preact/hooks';
import { Link, useParams } from 'wouter-preact';
import { apiPath } from '../api';
import { ErrorNote, Loading, Scroll, Time, useTitle } from '../components';
import { segment } from '../format';
import type { Dependent, RecipeDetail } from '../types';
import { useApi } from '../use-api';

export function versionHref(name: string, version: string, user: string | null, channel: string | null): string {
  return `/recipes/${[name, version, segment(user), segment(channel)].map(encodeURIComponent).join('/')}`;
}

/** Which packages require this recipe (from their conaninfo.txt): "who uses zlib/1.3?" */
export function Dependents({ name, versions }: { name: string; versions: string[] }) {
  const [version, setVersion] = useState('');
  const query = version ? `?version=${encodeURIComponent(version)}` : '';
  const { data, error, loading } = useApi<{ items: Dependent[] }>(`${apiPath('recipes', name, 'dependents')}${query}`);
  return (
    <section aria-labelledby="dependents-heading">
      <h2 id="dependents-heading">Used by</h2>
      <div class="filters">
        <div class="field">
          <label for="dependents-version">Version required</label>
          <select id="dependents-version" value={version} onChange={(e) => setVersion((e.target as HTMLSelectElement).value)}>
            <option value="">any</option>
            {versions.map((v) => (
              <option key={v} value={v}>
                {v}
              </option>
            ))}
          </select>
        </div>
      </div>
      {error && <ErrorNote error={error} />}
      {loading && !data && <Loading />}
      {data && data.items.length === 0 && <p class="muted">No package requires {name}{version ? `/${version}` : ''}.</p>}
      {data && data.items.length > 0 && (
        <Scroll label="Packages that require this recipe">
          <table>
            <thead>
              <tr>
                <th scope="col">Package</th>
                <th scope="col">Binary</th>
                <th scope="col">Requires</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((d) => (
                <tr key={`${d.reference}#${d.revision}:${d.packageId}`}>
                  <td>{d.reference}</td>
                  <td>
                    <code title={d.packageId}>{d.packageId.slice(0, 12)}</code>
                  </td>
                  <td>{d.requires}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </Scroll>
      )}
    </section>
  );
}

export function RecipePage() {
  const { name = '' } = useParams<{ name: string }>();
  useTitle(name);
  const { data, error, loading } = useApi<RecipeDetail>(apiPath('recipes', name));
  return (
    <>
      <p class="crumbs">
        <Link href="/">Search</Link> / <span>{name}</span>
      </p>
      <h1>{name}</h1>
      {error && <ErrorNote error={error} />}
      {loading && !data && <Loading />}
      {data && (
        <>
          <section aria-labelledby="versions-heading">
            <h2 id="versions-heading">Versions</h2>
            <Scroll label="Versions">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Reference</th>
                    <th scope="col">Latest revision</th>
                    <th scope="col">Published</th>
                    <th scope="col">Revisions</th>
                  </tr>
                </thead>
                <tbody>
                  {data.versions.map((v) => (
                    <tr key={v.reference}>
                      <td>
                        <Link href={versionHref(name, v.version, v.user, v.channel)}>{v.reference}</Link>
                      </td>
                      <td>
                        <code>{v.latestRevision.revision.slice(0, 12)}</code>
                      </td>
                      <td>
                        <Time iso={v.latestRevision.time} />
                      </td>
                      <td>{v.revisions}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </Scroll>
          </section>
          <Dependents name={name} versions={[...new Set(data.versions.map((v) => v.version))]} />
        </>
      )}
    </>
  );
}
