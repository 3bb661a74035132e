import type { ProjectRole } from '../generated/graphql';

/** Why a screen shows nothing to this role, before the API would refuse it. */
export function RoleNotice({ role, what }: { role: ProjectRole; what: string }) {
  return (
    <div className="notice" role="note">
      <p className="notice-title">Webhooks need the ADMIN role</p>
      <p>
        Your role in this project is <strong>{role}</strong>. {what} is for ADMIN and OWNER members only, because webhooks carry secrets and
        their log shows the exact requests sent. Ask an OWNER or ADMIN of this project if you need it.
      </p>
    </div>
  );
}
