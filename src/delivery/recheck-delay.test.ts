import { RecheckDelay } from './recheck-delay';

describe('RecheckDelay', () => {
  it('starts short and doubles up to the maximum', () => {
    const delay = new RecheckDelay(10, 1_000);
    expect(Array.from({ length: 9 }, () => delay.next())).toEqual([10, 20, 40, 80, 160, 320, 640, 1_000, 1_000]);
  });

  it('starts short again after a reset', () => {
    const delay = new RecheckDelay(10, 1_000);
    delay.next();
    delay.next();
    delay.reset();
    expect(delay.next()).toBe(10);
  });

  it('with the maximum equal to the minimum, waits that long every time', () => {
    const delay = new RecheckDelay(50, 50);
    expect([delay.next(), delay.next()]).toEqual([50, 50]);
  });
});
