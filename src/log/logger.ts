// stderr logger. The kubelet only shows a plugin's stderr when the call fails, appended to its
// own error line, so the default is quiet and every line is one line. Secrets are never passed
// in on purpose; `redact` is the second line of defence for values registered as secret.

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFields = Record<string, string | number | boolean | undefined>;

const PROGRAM = 'aliyun-acr-credential-provider';
const severity: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };
const secrets = new Set<string>();

/** Registers a value that must never reach a log line (tokens, AccessKeySecret, STS token). */
export function registerSecret(value: string | undefined): void {
  if (value && value.length >= 4) secrets.add(value);
}

export function redact(text: string): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('[REDACTED]');
  return out;
}

export interface Logger {
  level: LogLevel;
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  enabled(level: LogLevel): boolean;
}

export function createLogger(level: LogLevel = 'warn', write: (line: string) => void = writeStderr): Logger {
  const logger: Logger = {
    level,
    enabled: (l) => severity[l] <= severity[logger.level],
    error: (m, f) => emit('error', m, f),
    warn: (m, f) => emit('warn', m, f),
    info: (m, f) => emit('info', m, f),
    debug: (m, f) => emit('debug', m, f),
  };
  // The same warning can come from the hit path and again from the miss path: say it once.
  const written = new Set<string>();
  function emit(l: LogLevel, message: string, fields?: LogFields): void {
    if (!logger.enabled(l)) return;
    const line = redact(formatLine(l, message, fields));
    if (written.has(line)) return;
    written.add(line);
    write(line);
  }
  return logger;
}

function formatLine(level: LogLevel, message: string, fields?: LogFields): string {
  let line = `${PROGRAM}: ${level}: ${oneLine(message)}`;
  for (const [key, value] of Object.entries(fields ?? {})) {
    if (value !== undefined) line += ` ${key}=${oneLine(String(value))}`;
  }
  return line;
}

/** Collapses newlines so a multi-line cause can never turn into several log lines. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

function writeStderr(line: string): void {
  process.stderr.write(`${line}\n`);
}
