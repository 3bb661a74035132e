import { explain, type Problem, problemsOf } from '../api/errors';

/** A server refusal or a network failure, in words: never a blank page. */
export function ErrorNotice({ error, problems: given, title }: { error?: unknown; problems?: Problem[]; title?: string }) {
  const problems = given ?? problemsOf(error);
  if (problems.length === 0) return null;
  return (
    <div className="notice error" role="alert">
      {title && <p className="notice-title">{title}</p>}
      {problems.map((p, i) => (
        <p key={i}>
          <code className="code">{p.code}</code> {p.message}
          {explain(p.code) && <span className="explain"> {explain(p.code)}</span>}
        </p>
      ))}
    </div>
  );
}
