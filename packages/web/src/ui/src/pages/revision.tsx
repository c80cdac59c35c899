import { Link, useParams } from 'wouter-preact';
import { apiPath } from '../api';
import { CopyLine, ErrorNote, Loading, Scroll, Time, useTitle } from '../components';
import { formatBytes, fromSegment, referenceOf } from '../format';
import { PythonSource } from '../highlight';
import { REMOTE_URL } from '../locations';
import type { Binary, FileEntry, Revision, RevisionDetail } from '../types';
import { useApi } from '../use-api';
import { BinariesTable } from './binaries';
import { versionHref } from './recipe';

/** A remote name people can paste: the host name, or `cimmeria`. */
function remoteName(): string {
  const host = new URL(REMOTE_URL).hostname.split('.')[0] ?? '';
  return /^[a-z][a-z0-9_-]*$/i.test(host) && host !== 'localhost' && !/^\d/.test(host) ? host : 'cimmeria';
}

function HowToUse({ reference }: { reference: string }) {
  const remote = remoteName();
  return (
    <section aria-labelledby="use-heading">
      <h2 id="use-heading">Use it</h2>
      <CopyLine label="Add this server as a remote" text={`conan remote add ${remote} ${REMOTE_URL}`} />
      <CopyLine label="Install" text={`conan install --requires=${reference} -r ${remote}`} />
      <CopyLine label="In a conanfile.py" text={`requires = "${reference}"`} />
      <CopyLine label="In a conanfile.txt" text={`[requires]\n${reference}`} />
    </section>
  );
}

function Files({ files, label }: { files: FileEntry[]; label: string }) {
  return (
    <Scroll label={label}>
      <table>
        <thead>
          <tr>
            <th scope="col">File</th>
            <th scope="col" class="num">
              Size
            </th>
          </tr>
        </thead>
        <tbody>
          {files.map((f) => (
            <tr key={f.path}>
              <td>{f.path}</td>
              <td class="num">{formatBytes(f.size)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </Scroll>
  );
}

function RevisionContent({ base, revision }: { base: string; revision: string }) {
  const detail = useApi<RevisionDetail>(`${base}/revisions/${encodeURIComponent(revision)}`);
  const binaries = useApi<{ packages: Binary[] }>(`${base}/revisions/${encodeURIComponent(revision)}/packages`);
  return (
    <>
      <section aria-labelledby="binaries-heading">
        <h2 id="binaries-heading">Binaries</h2>
        {binaries.error && <ErrorNote error={binaries.error} />}
        {binaries.loading && !binaries.data && <Loading />}
        {binaries.data && <BinariesTable binaries={binaries.data.packages} />}
      </section>
      <section aria-labelledby="files-heading">
        <h2 id="files-heading">Recipe files</h2>
        {detail.error && <ErrorNote error={detail.error} />}
        {detail.loading && !detail.data && <Loading />}
        {detail.data && (
          <>
            <Files files={detail.data.files} label="Recipe files" />
            {detail.data.metadataFiles && detail.data.metadataFiles.length > 0 && (
              <>
                <h3>Metadata files</h3>
                <Files files={detail.data.metadataFiles} label="Metadata files" />
              </>
            )}
            {detail.data.conanfile !== null && (
              <>
                <h3>conanfile.py</h3>
                {detail.data.conanfileTruncated && <p class="muted">Only the beginning of the file is shown.</p>}
                <PythonSource source={detail.data.conanfile} label="conanfile.py" />
              </>
            )}
          </>
        )}
      </section>
    </>
  );
}

/** One version of a recipe (`name/version@user/channel`): how to use it, its revisions, binaries and files. */
export function RevisionPage() {
  const params = useParams<{ name: string; version: string; user: string; channel: string; revision?: string }>();
  const { name = '', version = '', user = '_', channel = '_' } = params;
  const reference = referenceOf(name, version, fromSegment(user), fromSegment(channel));
  useTitle(reference);
  const base = apiPath('recipes', name, version, user, channel);
  const revisions = useApi<{ revisions: Revision[] }>(`${base}/revisions`);
  const current = params.revision ?? revisions.data?.revisions[0]?.revision;
  const href = versionHref(name, version, fromSegment(user), fromSegment(channel));
  return (
    <>
      <p class="crumbs">
        <Link href="/">Search</Link> / <Link href={`/recipes/${encodeURIComponent(name)}`}>{name}</Link> /{' '}
        <span>{version}</span>
      </p>
      <h1>{reference}</h1>
      <HowToUse reference={reference} />
      <section aria-labelledby="revisions-heading">
        <h2 id="revisions-heading">Revisions</h2>
        {revisions.error && <ErrorNote error={revisions.error} />}
        {revisions.loading && !revisions.data && <Loading />}
        {revisions.data && (
          <ol class="revisions">
            {revisions.data.revisions.map((r, i) => (
              <li key={r.revision}>
                <Link
                  href={`${href}/${encodeURIComponent(r.revision)}`}
                  aria-current={r.revision === current ? 'page' : undefined}
                >
                  <code>{r.revision}</code>
                </Link>{' '}
                <Time iso={r.time} />
                {i === 0 && <span class="badge">latest</span>}
              </li>
            ))}
          </ol>
        )}
      </section>
      {current && <RevisionContent key={current} base={base} revision={current} />}
    </>
  );
}
