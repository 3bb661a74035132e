import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import schema from '../../contract/webhook-payload.schema.json';

/**
 * The repository's copy of the binding contract (contract/, checked against the shared one
 * by test/api/contract.test.ts) so the suite runs from the repository alone.
 */
const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validate = ajv.compile(schema);

/** Throws with ajv's messages when `body` does not satisfy the contract's JSON schema. */
export function assertValidPayload(body: string): void {
  const value: unknown = JSON.parse(body);
  if (!validate(value)) throw new Error(`payload violates the contract schema: ${ajv.errorsText(validate.errors)}\n${body}`);
}

/** Every key path of a JSON value, in order, to compare key order and not just content. */
export function keyPaths(value: unknown, prefix = ''): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value as Record<string, unknown>).flatMap(([key, inner]) => [
    `${prefix}${key}`,
    ...keyPaths(inner, `${prefix}${key}.`),
  ]);
}
