import { User } from '../auth/user.entity';
import type { DeliveryCause } from '../events/delivery-cause';

/** Who is calling: resolved once per request (or subscription) from the bearer token. */
export interface Actor {
  user: User;
  isSuperAdmin: boolean;
  /** The token the caller authenticated with, so a long-lived connection can be re-checked when it is revoked. */
  tokenId: string;
  /** The webhook delivery being handled when the request was made (its webhook-id header), if any. */
  cause?: DeliveryCause | null;
}
