import { isDatabaseUnavailable, isUniqueViolation } from './errors';

describe('isDatabaseUnavailable', () => {
  const wrapped = (driverError: object) => Object.assign(new Error('query failed'), { driverError });

  test.each([
    ['a refused connection', Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })],
    ['a reset connection', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })],
    ['every address refused', new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })])],
    ['a connection pg saw end', new Error('Connection terminated unexpectedly')],
    ['the pool giving up on connecting', new Error('timeout exceeded when trying to connect')],
    ['an administrator shutting PostgreSQL down', wrapped({ code: '57P01', message: 'terminating connection due to administrator command' })],
    ['PostgreSQL starting up', wrapped({ code: '57P03', message: 'the database system is starting up' })],
    ['a connection exception', wrapped({ code: '08006', message: 'connection failure' })],
    ['too many connections', wrapped({ code: '53300', message: 'sorry, too many clients already' })],
  ])('%s is the database being unavailable', (_what, error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  test.each([
    ['a unique violation', wrapped({ code: '23505', message: 'duplicate key value' })],
    ['a foreign key violation', wrapped({ code: '23503', message: 'violates foreign key constraint' })],
    ['a syntax error', wrapped({ code: '42601', message: 'syntax error' })],
    ['a statement timeout', wrapped({ code: '57014', message: 'canceling statement due to statement timeout' })],
    ['a plain bug', new TypeError("Cannot read properties of undefined (reading 'id')")],
    ['nothing', undefined],
  ])('%s is not', (_what, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });

  test('a cycle of causes ends', () => {
    const a: { cause?: unknown } = new Error('a');
    a.cause = a;
    expect(isDatabaseUnavailable(a)).toBe(false);
  });
});

describe('isUniqueViolation', () => {
  test('matches the code and, when given, the constraint', () => {
    const error = { driverError: { code: '23505', constraint: 'blueprint_api_name_key' } };
    expect(isUniqueViolation(error)).toBe(true);
    expect(isUniqueViolation(error, 'blueprint_api_name_key')).toBe(true);
    expect(isUniqueViolation(error, 'other')).toBe(false);
  });
});
