import { User } from '../auth/user.entity';

/** Who is calling: resolved once per request (or subscription) from the bearer token. */
export interface Actor {
  user: User;
  isSuperAdmin: boolean;
  /** The token the caller authenticated with, so a long-lived connection can be re-checked when it is revoked. */
  tokenId: string;
}
