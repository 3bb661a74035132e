import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The secret `listen` signs with when it does not use a webhook's own: made once per machine
 * and kept, so a local receiver configured with it keeps working from one run to the next
 * (as `stripe listen` does). It signs requests to the developer's own server only.
 */
export function configDir(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
  return path.join(base, 'cms-webhooks');
}

export function localSecretFile(env: NodeJS.ProcessEnv): string {
  return path.join(configDir(env), 'listen-secret');
}

export function loadLocalSecret(env: NodeJS.ProcessEnv): string {
  const file = localSecretFile(env);
  try {
    const stored = fs.readFileSync(file, 'utf8').trim();
    if (/^whsec_[A-Za-z0-9+/]{43}=$/.test(stored)) return stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}
