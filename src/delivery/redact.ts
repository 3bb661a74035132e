import { maskSecret } from '../common/mask';
import type { Header } from './http-sender';

/**
 * A receiver may echo what it got (many test endpoints do), and the log shows its answer to
 * anyone who reads the log: so a webhook's secret header values are masked in the answer too,
 * before it is stored. Pure, so every spelling and the cut-off case are unit-tested.
 */

/** As sent, and as it reads inside a JSON string (the usual echo). */
function spellings(secret: string): string[] {
  const json = JSON.stringify(secret).slice(1, -1);
  return json === secret ? [secret] : [secret, json];
}

/**
 * `text` with each secret's every occurrence replaced by its mask. When the text may have been
 * cut short (the stored body is capped), a secret's beginning at the very end is masked too.
 */
export function maskEchoedSecrets(text: string, secrets: readonly string[], mayBeCut = false): string {
  // Longest first, so a secret that contains another is masked whole.
  const ordered = secrets.filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  let result = text;
  for (const secret of ordered) {
    for (const form of spellings(secret)) result = result.split(form).join(maskSecret(secret));
  }
  if (mayBeCut) {
    for (const secret of ordered) {
      for (const form of spellings(secret)) {
        for (let n = form.length - 1; n >= 1; n--) {
          if (result.endsWith(form.slice(0, n))) {
            result = result.slice(0, -n) + maskSecret(secret);
            break;
          }
        }
      }
    }
  }
  return result;
}

export function maskEchoedSecretsInHeaders(headers: readonly Header[], secrets: readonly string[]): Header[] {
  return headers.map((h) => ({ name: maskEchoedSecrets(h.name, secrets), value: maskEchoedSecrets(h.value, secrets) }));
}
