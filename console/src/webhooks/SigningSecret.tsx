import { useMutation } from '@apollo/client/react';
import { useState } from 'react';
import { CopyButton } from '../common/CopyButton';
import { ErrorNotice } from '../common/ErrorNotice';
import { RotateWebhookSecretDocument } from '../generated/graphql';

/**
 * The Standard Webhooks secret receivers verify signatures with (ADMIN and up read it). After
 * a rotation the new one is shown once, at once, with copy; the old one keeps signing beside
 * it for 24 hours, so receivers can switch without dropping a request.
 */
export function SigningSecret({ webhookId, secret }: { webhookId: string; secret: string }) {
  const [shown, setShown] = useState(false);
  const [rotated, setRotated] = useState<string | null>(null);
  const [rotate, { loading, error }] = useMutation(RotateWebhookSecretDocument);
  const doRotate = async () => {
    try {
      const result = await rotate({ variables: { id: webhookId } });
      setRotated(result.data!.rotateWebhookSecret.signingSecret);
      setShown(false);
    } catch {
      // shown by ErrorNotice
    }
  };
  return (
    <section className="panel" aria-labelledby="secret-title">
      <h2 id="secret-title">Signing secret</h2>
      <p className="help">
        Every request carries a <code>webhook-signature</code> made with this secret; verify it with the SDK or any Standard Webhooks library.
      </p>
      <div className="secret-row">
        <code className="secret" aria-label="Signing secret">
          {shown ? secret : `${secret.slice(0, 6)}${'•'.repeat(16)}`}
        </code>
        <button type="button" className="secondary" aria-pressed={shown} onClick={() => setShown((s) => !s)}>
          {shown ? 'Hide' : 'Show'}
        </button>
        <CopyButton text={secret} label="Copy signing secret" />
      </div>
      <button type="button" className="secondary" onClick={doRotate} disabled={loading}>
        Rotate signing secret
      </button>
      <ErrorNotice error={error} />
      {rotated && (
        <div className="notice" role="status">
          <p className="notice-title">New signing secret (shown in full only now)</p>
          <code className="secret">{rotated}</code> <CopyButton text={rotated} label="Copy new secret" />
          <p>The previous secret keeps signing requests alongside this one for 24 hours.</p>
          <button type="button" className="secondary" onClick={() => setRotated(null)}>
            Done
          </button>
        </div>
      )}
    </section>
  );
}
