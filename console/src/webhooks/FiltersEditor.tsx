import { useQuery } from '@apollo/client/react';
import { ErrorNotice } from '../common/ErrorNotice';
import { type ActorFilterMode, ProjectMembersDocument } from '../generated/graphql';
import { describedBy, FieldError } from './FieldError';
import { type FormState, STATUSES } from './form-model';

type Patch = (patch: Partial<FormState>) => void;

const toggled = <T,>(current: Set<T>, value: T, on: boolean): Set<T> => {
  const next = new Set(current);
  if (on) next.add(value);
  else next.delete(value);
  return next;
};

/**
 * The content filters: which document statuses, which changed fields, whose changes. Empty
 * means "no filter" everywhere, so the form cannot save a filter that lets nothing through.
 */
export function FiltersEditor({ projectId, state, set, errors }: { projectId: string; state: FormState; set: Patch; errors: Record<string, string> }) {
  const members = useQuery(ProjectMembersDocument, { variables: { projectId }, skip: state.actorMode === 'ANY' });
  return (
    <fieldset className="filters">
      <legend>Filters</legend>
      <fieldset id="wh-statuses" tabIndex={-1} aria-describedby={`wh-statuses-help${errors.documentStatuses ? ' wh-statuses-error' : ''}`}>
        <legend>Document status</legend>
        <p id="wh-statuses-help" className="help">
          Document events are sent only when the document has one of the ticked statuses (e.g. only Published, for a deploy hook). None ticked: any status. Blueprint and member events are not affected.
        </p>
        <FieldError id="wh-statuses" message={errors.documentStatuses} />
        <ul className="statuses">
          {STATUSES.map((s) => (
            <li key={s.value} className="field inline">
              <input id={`status-${s.value}`} type="checkbox" checked={state.documentStatuses.has(s.value)} onChange={(e) => set({ documentStatuses: toggled(state.documentStatuses, s.value, e.target.checked) })} />
              <label htmlFor={`status-${s.value}`}>{s.label}</label>
            </li>
          ))}
        </ul>
      </fieldset>

      <div className="field">
        <label htmlFor="wh-changed-fields">Changed fields</label>
        <input
          {...describedBy('wh-changed-fields', errors.changedFields, 'wh-changed-fields-help')}
          spellCheck={false}
          autoComplete="off"
          placeholder="title, slug"
          value={state.changedFields}
          onChange={(e) => set({ changedFields: e.target.value })}
        />
        <p id="wh-changed-fields-help" className="help">
          Document field update events are sent only when one of these changed (field names, comma-separated; <code>title</code> counts). Blank: any field.
        </p>
        <FieldError id="wh-changed-fields" message={errors.changedFields} />
      </div>

      <fieldset id="wh-actors" tabIndex={-1} aria-describedby={errors.actorFilter ? 'wh-actors-error' : undefined}>
        <legend>Changes made by</legend>
        <FieldError id="wh-actors" message={errors.actorFilter} />
        <div className="field">
          <label htmlFor="wh-actor-mode">Whose changes</label>
          <select id="wh-actor-mode" value={state.actorMode} onChange={(e) => set({ actorMode: e.target.value as ActorFilterMode | 'ANY' })}>
            <option value="ANY">Anyone</option>
            <option value="INCLUDE">Only these users or tokens</option>
            <option value="EXCLUDE">Anyone but these users or tokens</option>
          </select>
        </div>
        {state.actorMode !== 'ANY' && (
          <>
            <fieldset id="wh-actor-users" tabIndex={-1} aria-describedby={errors['actorFilter.userIds'] ? 'wh-actor-users-error' : undefined}>
              <legend>Members</legend>
              <FieldError id="wh-actor-users" message={errors['actorFilter.userIds']} />
              <ErrorNotice error={members.error} />
              <ul className="members">
                {members.data?.projectMembers.map((m) => (
                  <li key={m.userId} className="field inline">
                    <input id={`actor-${m.userId}`} type="checkbox" checked={state.actorUserIds.has(m.userId)} onChange={(e) => set({ actorUserIds: toggled(state.actorUserIds, m.userId, e.target.checked) })} />
                    <label htmlFor={`actor-${m.userId}`}>{m.user.email}</label>
                  </li>
                ))}
              </ul>
            </fieldset>
            <div className="field">
              <label htmlFor="wh-actor-tokens">API token ids</label>
              <input
                {...describedBy('wh-actor-tokens', errors['actorFilter.tokenIds'], 'wh-actor-tokens-help')}
                spellCheck={false}
                autoComplete="off"
                value={state.actorTokenIds}
                onChange={(e) => set({ actorTokenIds: e.target.value })}
              />
              <p id="wh-actor-tokens-help" className="help">
                Comma-separated ids of members&rsquo; API tokens (an integration&rsquo;s token, to exclude its own writes).
              </p>
              <FieldError id="wh-actor-tokens" message={errors['actorFilter.tokenIds']} />
            </div>
          </>
        )}
      </fieldset>
    </fieldset>
  );
}
