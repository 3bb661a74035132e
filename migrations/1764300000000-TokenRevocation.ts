import { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Token revocation, and NOTIFY triggers that tell every API process at once when access may
 * have shrunk, so open subscriptions end without polling (src/auth/access-watch.ts).
 *
 * Revocation sets revoked_at instead of deleting the row: the token stays listed (with when it
 * was last used and when it was revoked), which is what an owner wants to see after an
 * incident, and its hash stays taken. last_used_at is written at most once a minute per token.
 *
 * The triggers sit on the tables, not in the services, so a change made by hand in psql (a
 * user deleted, a membership removed) counts as much as one made through the API; a NOTIFY
 * is delivered only when its transaction commits. Payloads carry ids only:
 * `token:<id>`, `user:<id>`, `member:<project id>:<user id>`, and `all` for a TRUNCATE.
 */
export class TokenRevocation1764300000000 implements MigrationInterface {
    name = 'TokenRevocation1764300000000';

    public async up(queryRunner: QueryRunner): Promise<void> {
        await queryRunner.query(`ALTER TABLE "api_token" ADD "last_used_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`ALTER TABLE "api_token" ADD "revoked_at" TIMESTAMP WITH TIME ZONE`);
        await queryRunner.query(`CREATE FUNCTION cms_notify_access() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'api_token' THEN
    PERFORM pg_notify('cms_access', 'token:' || OLD.id);
  ELSIF TG_TABLE_NAME = 'app_user' THEN
    PERFORM pg_notify('cms_access', 'user:' || OLD.id);
  ELSE
    PERFORM pg_notify('cms_access', 'member:' || OLD.project_id || ':' || OLD.user_id);
  END IF;
  RETURN NULL;
END $$`);
        await queryRunner.query(`CREATE FUNCTION cms_notify_access_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN PERFORM pg_notify('cms_access', 'all'); RETURN NULL; END $$`);
        await queryRunner.query(`CREATE TRIGGER api_token_access_delete AFTER DELETE ON "api_token" FOR EACH ROW EXECUTE FUNCTION cms_notify_access()`);
        // Not on last_used_at: that column changes while tokens are used, and nobody loses access by it.
        await queryRunner.query(`CREATE TRIGGER api_token_access_update AFTER UPDATE OF "revoked_at", "token_hash", "user_id" ON "api_token" FOR EACH ROW
WHEN ((OLD.revoked_at IS NULL AND NEW.revoked_at IS NOT NULL) OR OLD.token_hash <> NEW.token_hash OR OLD.user_id <> NEW.user_id)
EXECUTE FUNCTION cms_notify_access()`);
        await queryRunner.query(`CREATE TRIGGER app_user_access_delete AFTER DELETE ON "app_user" FOR EACH ROW EXECUTE FUNCTION cms_notify_access()`);
        await queryRunner.query(`CREATE TRIGGER app_user_access_update AFTER UPDATE OF "is_super_admin" ON "app_user" FOR EACH ROW
WHEN (OLD.is_super_admin AND NOT NEW.is_super_admin)
EXECUTE FUNCTION cms_notify_access()`);
        await queryRunner.query(`CREATE TRIGGER project_member_access_delete AFTER DELETE ON "project_member" FOR EACH ROW EXECUTE FUNCTION cms_notify_access()`);
        await queryRunner.query(`CREATE TRIGGER project_member_access_update AFTER UPDATE OF "role", "project_id", "user_id" ON "project_member" FOR EACH ROW
WHEN (OLD.role <> NEW.role OR OLD.project_id <> NEW.project_id OR OLD.user_id <> NEW.user_id)
EXECUTE FUNCTION cms_notify_access()`);
        for (const table of ['api_token', 'app_user', 'project_member']) {
            await queryRunner.query(`CREATE TRIGGER ${table}_access_truncate AFTER TRUNCATE ON "${table}" FOR EACH STATEMENT EXECUTE FUNCTION cms_notify_access_all()`);
        }
    }

    public async down(queryRunner: QueryRunner): Promise<void> {
        for (const table of ['api_token', 'app_user', 'project_member']) {
            for (const suffix of ['delete', 'update', 'truncate']) await queryRunner.query(`DROP TRIGGER IF EXISTS ${table}_access_${suffix} ON "${table}"`);
        }
        await queryRunner.query(`DROP FUNCTION cms_notify_access, cms_notify_access_all`);
        await queryRunner.query(`ALTER TABLE "api_token" DROP COLUMN "revoked_at"`);
        await queryRunner.query(`ALTER TABLE "api_token" DROP COLUMN "last_used_at"`);
    }
}
