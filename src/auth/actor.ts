import { User } from '../cms/user.entity';

/** Who is calling: resolved once per request (or subscription) from the bearer token. */
export interface Actor {
  user: User;
  isSuperAdmin: boolean;
}
