import type { Forwarded } from './forward';

/**
 * What `listen` and `replay` print: one line per request to the local server, for a person
 * (aligned, coloured on a terminal) or, with --json, one JSON object per line for a program.
 * Notices (ready, reconnecting, ...) go to stderr, so stdout holds nothing but these lines.
 */
export interface RequestLine {
  /** When the request was sent. */
  time: Date;
  eventId: string;
  trigger: string;
  documentId?: string;
  blueprintId?: string;
  userId?: string;
  /** The logged call replayed, for `replay`. */
  callId?: string;
  method: string;
  url: string;
  result: Forwarded;
}

const COLOURS = { red: 31, green: 32, yellow: 33, dim: 2 } as const;

export class Output {
  constructor(
    private readonly json: boolean,
    private readonly colour: boolean,
    private readonly stdout: NodeJS.WritableStream = process.stdout,
    private readonly stderr: NodeJS.WritableStream = process.stderr,
  ) {}

  static forProcess(json: boolean, env: NodeJS.ProcessEnv): Output {
    return new Output(json, Boolean(process.stdout.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb');
  }

  notice(text: string): void {
    this.stderr.write(`${this.paint('dim', text)}\n`);
  }

  warn(text: string): void {
    this.stderr.write(`${this.paint('yellow', text)}\n`);
  }

  request(line: RequestLine): void {
    const { result } = line;
    if (this.json) {
      const { time, result: _, ...rest } = line;
      this.stdout.write(`${JSON.stringify({ time: time.toISOString(), ...rest, ...result })}\n`);
      return;
    }
    const ok = result.status !== undefined && result.status >= 200 && result.status < 300;
    const outcome = result.status !== undefined ? `${result.status}` : `failed: ${result.error}`;
    const ids = [
      line.documentId && `doc ${line.documentId}`,
      line.blueprintId && !line.documentId && `blueprint ${line.blueprintId}`,
      line.userId && `user ${line.userId}`,
      `event ${line.eventId}`,
      line.callId && `call ${line.callId}`,
    ].filter(Boolean);
    this.stdout.write(
      `${clock(line.time)}  ${line.trigger.padEnd(25)} ${ids.join('  ')}  → ${this.paint(ok ? 'green' : 'red', outcome)} ${this.paint('dim', `${result.durationMs} ms`)}\n`,
    );
  }

  private paint(colour: keyof typeof COLOURS, text: string): string {
    return this.colour ? `\u001b[${COLOURS[colour]}m${text}\u001b[0m` : text;
  }
}

function clock(time: Date): string {
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return `${pad(time.getHours())}:${pad(time.getMinutes())}:${pad(time.getSeconds())}.${pad(time.getMilliseconds(), 3)}`;
}
