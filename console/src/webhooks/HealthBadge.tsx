import { useApolloClient } from '@apollo/client/react';
import { useEffect } from 'react';
import { formatTime } from '../common/format';
import { ConsoleHealthChangedDocument, type WebhookHealthBadgeFragment, WebhookHealthBadgeFragmentDoc } from '../generated/graphql';

type Health = WebhookHealthBadgeFragment['health'];

const LABELS: Record<Exclude<Health['state'], 'HEALTHY'>, { text: string; className: string }> = {
  FAILING: { text: 'Failing', className: 'badge bad' },
  DISABLE_WARNING: { text: 'Disabled soon', className: 'badge warn' },
  DISABLED: { text: 'Disabled', className: 'badge off' },
};

/** Failing / Disabled soon / Disabled, with the reason; nothing while the webhook is healthy. */
export function HealthBadge({ health }: { health: Health }) {
  if (health.state === 'HEALTHY') return null;
  const label = LABELS[health.state];
  const title = health.willDisableAt ? `${health.reason ?? ''} (from ${formatTime(health.willDisableAt)})` : (health.reason ?? undefined);
  return (
    <span className="health" data-health={health.state}>
      <span className={label.className} title={title}>
        {label.text}
      </span>
      {health.reason && <span className="reason"> {health.reason}</span>}
    </span>
  );
}

/**
 * Keeps the health of the project's webhooks in the Apollo cache current: every change the
 * server announces (webhookHealthChanged) is written onto its Webhook, so each badge showing
 * it updates at once. A webhook disabled automatically also changed `enabled`: the screens'
 * queries are asked again then.
 */
export function useHealthUpdates(projectId: string, enabled: boolean): void {
  const client = useApolloClient();
  useEffect(() => {
    if (!enabled) return;
    const subscription = client.subscribe({ query: ConsoleHealthChangedDocument, variables: { projectId }, fetchPolicy: 'no-cache' }).subscribe({
      next: ({ data }) => {
        const change = data?.webhookHealthChanged;
        if (!change) return;
        const { state, reason, willDisableAt, consecutiveFailures } = change;
        client.cache.writeFragment({
          id: client.cache.identify({ __typename: 'Webhook', id: change.webhookId }),
          fragment: WebhookHealthBadgeFragmentDoc,
          data: { __typename: 'Webhook', health: { __typename: 'WebhookHealth', state, reason, willDisableAt, consecutiveFailures } } as WebhookHealthBadgeFragment,
        });
        if (state === 'DISABLED') void client.refetchQueries({ include: 'active' });
      },
      // The badge is a convenience: a refused or dropped subscription leaves the page as loaded.
      error: () => undefined,
    });
    return () => subscription.unsubscribe();
  }, [client, projectId, enabled]);
}
