#!/usr/bin/env node
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from './args';
import { closeConnections } from './forward';
import { listen } from './listen';
import { replay } from './replay';
import { verifyCommand } from './verify-command';

const HELP = `Usage: cms-webhooks <command> [options]

The CMS's webhooks on your machine, without a tunnel.

Commands:
  listen --forward-to URL     send each event of a project to a local server as it happens
  replay CALL_ID --forward-to URL
                              send a logged webhook call again to a local server
  verify --secret whsec_...   check a request's Standard Webhooks signature

Run cms-webhooks <command> --help for its options. Common environment: CMS_API_URL (default
http://localhost:4000/graphql), CMS_TOKEN (an API token).`;

function version(): string {
  const file = path.join(__dirname, '..', '..', 'package.json');
  return (JSON.parse(fs.readFileSync(file, 'utf8')) as { version: string }).version;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [command, ...rest] = argv;
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    switch (command) {
      case 'listen':
        return await listen(rest, env, stop.signal);
      case 'replay':
        return await replay(rest, env);
      case 'verify':
        return await verifyCommand(rest, env);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(`${HELP}\n`);
        return command === undefined ? 2 : 0;
      case '--version':
      case '-v':
        process.stdout.write(`${version()}\n`);
        return 0;
      default:
        throw new UsageError(`unknown command '${command}' (listen, replay or verify; see cms-webhooks --help)`);
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`cms-webhooks: ${error.message}\n`);
    return 2;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    closeConnections();
  }
}

if (require.main === module) {
  main(process.argv.slice(2), process.env).then(
    (code) => {
      process.exitCode = code;
    },
    (error: Error) => {
      process.stderr.write(`cms-webhooks: ${error.stack ?? error.message}\n`);
      process.exitCode = 1;
    },
  );
}
