import { FieldError, describedBy } from './FieldError';
import { type HeaderRow, newHeaderRow } from './form-model';

/**
 * Headers as rows of name, value and a Secret toggle. A saved secret is only ever known
 * masked: it is kept as it is (sent without a value) unless "Replace" is chosen.
 */
export function HeadersEditor({ rows, onChange, errors }: { rows: HeaderRow[]; onChange: (rows: HeaderRow[]) => void; errors: Record<string, string> }) {
  const update = (key: number, patch: Partial<HeaderRow>) => onChange(rows.map((r) => (r.key === key ? { ...r, ...patch } : r)));
  return (
    <fieldset id="wh-headers" className="headers" aria-describedby={errors.headers ? 'wh-headers-error' : 'wh-headers-help'}>
      <legend>Headers</legend>
      <p id="wh-headers-help" className="help">
        Sent with every request, before the signature headers. Mark API keys and passwords as Secret: they are stored, sent, and shown
        masked everywhere, in the log too.
      </p>
      <FieldError id="wh-headers" message={errors.headers} />
      {rows.length > 0 && (
        <ol className="header-rows">
          {rows.map((row, i) => {
            const nameId = `wh-header-${i}-name`;
            const valueId = `wh-header-${i}-value`;
            const keptSecret = row.saved !== null && !row.replacing;
            return (
              <li key={row.key} className="header-row" aria-label={`Header ${i + 1}`}>
                <div className="field">
                  <label htmlFor={nameId}>Header name</label>
                  <input {...describedBy(nameId, errors[`headers[${i}].name`])} value={row.name} spellCheck={false} autoComplete="off" onChange={(e) => update(row.key, { name: e.target.value })} />
                  <FieldError id={nameId} message={errors[`headers[${i}].name`]} />
                </div>
                <div className="field">
                  <label htmlFor={valueId}>Header value</label>
                  {keptSecret ? (
                    <input {...describedBy(valueId, errors[`headers[${i}].value`], `${valueId}-saved`)} value={row.saved!.masked} readOnly className="masked" />
                  ) : (
                    <input
                      {...describedBy(valueId, errors[`headers[${i}].value`])}
                      type={row.secret ? 'password' : 'text'}
                      value={row.value}
                      spellCheck={false}
                      autoComplete="off"
                      onChange={(e) => update(row.key, { value: e.target.value })}
                    />
                  )}
                  {keptSecret && (
                    <p id={`${valueId}-saved`} className="help">
                      Saved secret, shown masked. It is kept unless you replace it.
                    </p>
                  )}
                  <FieldError id={valueId} message={errors[`headers[${i}].value`]} />
                </div>
                <div className="field inline">
                  <input id={`wh-header-${i}-secret`} type="checkbox" checked={row.secret} onChange={(e) => update(row.key, { secret: e.target.checked })} />
                  <label htmlFor={`wh-header-${i}-secret`}>Secret</label>
                </div>
                <div className="row-actions">
                  {row.saved && !row.replacing && (
                    <button type="button" className="secondary" onClick={() => update(row.key, { replacing: true, value: '' })}>
                      Replace secret
                    </button>
                  )}
                  {row.saved && row.replacing && (
                    <button type="button" className="secondary" onClick={() => update(row.key, { replacing: false, value: '', secret: true })}>
                      Keep saved secret
                    </button>
                  )}
                  <button type="button" className="secondary" aria-label={`Remove header ${i + 1}`} onClick={() => onChange(rows.filter((r) => r.key !== row.key))}>
                    Remove
                  </button>
                </div>
              </li>
            );
          })}
        </ol>
      )}
      <button type="button" className="secondary" onClick={() => onChange([...rows, newHeaderRow()])}>
        Add header
      </button>
    </fieldset>
  );
}
