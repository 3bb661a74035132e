import { useState } from 'react';
import { prettyJson } from '../common/format';

/** A body as sent or received: indented when it is JSON, and raw, byte for byte as logged. */
export function Body({ text, label }: { text: string | null; label: string }) {
  const pretty = prettyJson(text);
  const [raw, setRaw] = useState(pretty === null);
  if (text == null || text === '') return <p className="muted">No body</p>;
  return (
    <div className="body">
      {pretty !== null && (
        <div className="segmented" role="group" aria-label={`${label} view`}>
          <button type="button" aria-pressed={!raw} onClick={() => setRaw(false)}>
            Pretty
          </button>
          <button type="button" aria-pressed={raw} onClick={() => setRaw(true)}>
            Raw
          </button>
        </div>
      )}
      <pre tabIndex={0} aria-label={`${label} (${raw ? 'raw' : 'pretty-printed'})`} className="code-block">
        {raw ? text : pretty}
      </pre>
    </div>
  );
}

export function HeaderTable({ headers, label }: { headers: ReadonlyArray<{ name: string; value: string }> | null; label: string }) {
  if (!headers || headers.length === 0) return <p className="muted">No headers</p>;
  return (
    <table className="data headers-table" aria-label={label}>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Value</th>
        </tr>
      </thead>
      <tbody>
        {headers.map((h, i) => (
          <tr key={i}>
            <th scope="row">
              <code>{h.name}</code>
            </th>
            <td>
              <code className="wrap">{h.value}</code>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
