import { describeWindow } from './auto-disable';

test('the auto-disable window in words: hours, minutes, else seconds', () => {
  expect(describeWindow(120 * 3_600_000)).toBe('120 hours');
  expect(describeWindow(90 * 60_000)).toBe('90 minutes');
  expect(describeWindow(2_000)).toBe('2 seconds');
  expect(describeWindow(1_500)).toBe('1.5 seconds');
});
