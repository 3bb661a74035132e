import { useMutation } from '@apollo/client/react';
import { RoleNotice } from '../common/RoleNotice';
import { roleAtLeast } from '../common/roles';
import { ConsoleCreateWebhookDocument } from '../generated/graphql';
import { projectPath, useProject } from '../projects/project';
import { Link, navigate } from '../router';
import { WebhookForm } from './WebhookForm';

export function WebhookCreatePage() {
  const project = useProject();
  const [create] = useMutation(ConsoleCreateWebhookDocument);
  if (!roleAtLeast(project.myRole, 'ADMIN')) return <RoleNotice role={project.myRole} what="Creating webhooks" />;
  return (
    <section>
      <p className="crumbs">
        <Link to={projectPath(project.id, '/webhooks')}>Webhooks</Link> /
      </p>
      <h1>Create webhook</h1>
      <WebhookForm
        projectId={project.id}
        onSubmit={async (input) => {
          const result = await create({ variables: { projectId: project.id, input } });
          navigate(projectPath(project.id, `/webhooks/${result.data!.createWebhook.id}?created=1`));
        }}
      />
    </section>
  );
}
