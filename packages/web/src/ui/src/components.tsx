import { useEffect, useRef, useState } from 'preact/hooks';
import type { ApiError } from './api';
import { formatTime } from './format';

/** A line of text with a button that copies it. */
export function CopyLine({ label, text }: { label: string; text: string }) {
  const [copied, setCopied] = useState(false);
  const pre = useRef<HTMLPreElement>(null);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setCopied(true);
      setTimeout(() => setCopied(false), 1500);
    } catch {
      // No clipboard API outside secure contexts (plain http to a host name): select the text for Ctrl+C.
      const range = document.createRange();
      range.selectNodeContents(pre.current!);
      const selection = window.getSelection();
      selection?.removeAllRanges();
      selection?.addRange(range);
    }
  };
  return (
    <div class="copy-line">
      <span class="copy-label">{label}</span>
      <div class="copy-row">
        <pre ref={pre} tabIndex={0} aria-label={label}>
          <code>{text}</code>
        </pre>
        <button type="button" onClick={copy} aria-label={`Copy: ${label}`}>
          {copied ? 'Copied' : 'Copy'}
        </button>
      </div>
    </div>
  );
}

/** A table that scrolls sideways on narrow screens; focusable so the keyboard can scroll it. */
export function Scroll({ label, children }: { label: string; children: preact.ComponentChildren }) {
  return (
    <div class="scroll" tabIndex={0} role="region" aria-label={label}>
      {children}
    </div>
  );
}

export function Time({ iso }: { iso: string }) {
  return <time dateTime={iso}>{formatTime(iso)}</time>;
}

export function ErrorNote({ error }: { error: ApiError | Error }) {
  return (
    <p class="error" role="alert">
      {error.message}
    </p>
  );
}

export function Loading() {
  return (
    <p class="muted" aria-live="polite">
      Loading…
    </p>
  );
}

/** Sets the document title (page changes are announced by screen readers through it). */
export function useTitle(title: string) {
  const first = useRef(true);
  useEffect(() => {
    document.title = title ? `${title} · Cimmeria` : 'Cimmeria';
    first.current = false;
  }, [title]);
}
