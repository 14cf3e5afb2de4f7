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
        paths: [
          // Credentials: bearer tokens in headers (also inside an error's request options), tokens, passwords.
          'req.headers.authorization',
          'req.headers.cookie',
          'headers.authorization',
          'headers.Authorization',
          '*.headers.authorization',
          '*.headers.Authorization',
          '*.*.headers.authorization',
          '*.*.headers.Authorization',
          'authorization',
          '*.authorization',
          'token',
          '*.token',
          '*.*.token',
          'password',
          '*.password',
          // Key material.
          'privateKey',
          '*.privateKey',
          // Secret values: a Secret (or one nested in a request or decision), inline deliveries.
          'stringData',
          '*.stringData',
          '*.*.stringData',
          'data',
          '*.data',
          '*.*.data',
          'inlineSecrets',
          '*.inlineSecrets',
        ],
        censor: '[redacted]',
      },
    },
    destination,
  );
}
