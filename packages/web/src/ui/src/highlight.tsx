import hljs from 'highlight.js/lib/core';
import python from 'highlight.js/lib/languages/python';

hljs.registerLanguage('python', python);

/** Past this, the text is shown plain: highlighting megabytes would freeze the tab. */
const MAX_HIGHLIGHT_CHARS = 256 * 1024;

/**
 * Python source with syntax highlighting. highlight.js escapes the source
 * (`&`, `<`, `>`, quotes) and adds only its own `<span class="hljs-…">`:
 * the one place the UI sets HTML, and the CSP forbids inline scripts anyway.
 */
export function PythonSource({ source, label }: { source: string; label: string }) {
  if (source.length > MAX_HIGHLIGHT_CHARS) {
    return (
      <pre class="source" tabIndex={0} aria-label={label}>
        <code>{source}</code>
      </pre>
    );
  }
  const html = hljs.highlight(source, { language: 'python', ignoreIllegals: true }).value;
  return (
    <pre class="source" tabIndex={0} aria-label={label}>
      <code class="hljs language-python" dangerouslySetInnerHTML={{ __html: html }} />
    </pre>
  );
}
