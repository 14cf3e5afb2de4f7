import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * JSON logs on stderr (stdout belongs to command output). Known secret-bearing paths are
 * redacted as a second line of defence; the first is never to log them.
 */
export function createLogger(level: string, destination: NodeJS.WritableStream = process.stderr): Logger {
  return pino(
    {
      level,
      base: { service: 'syncgate' },
      timestamp: pino.stdTimeFunctions.isoTime,
      redact: {
        paths: ['req.headers.authorization', 'authorization', 'token', '*.token', 'privateKey', '*.privateKey', 'stringData', '*.stringData', 'data', '*.data'],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
