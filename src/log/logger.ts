// The logger. The kubelet only shows a plugin's stderr when the call fails, appended to its own
// error line, so the default is quiet and every line is one line. Two formats: `text` (the
// default, `aliyun-acr-credential-provider: warn: message key=value`) and `json` (one object per
// line: time, level, msg, then the fields). An optional log file (see log-file.ts) gets the
// same lines, time-stamped, at the same level. Secrets are never passed in on purpose;
// `redact` is the second line of defence for values registered as secret, applied to the final
// line whatever its format.

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['text', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/** Field values: scalars, or a list of small records (e.g. the cloud calls of one invocation). */
export type LogValue = string | number | boolean | undefined | ReadonlyArray<Readonly<Record<string, string | number>>>;
export type LogFields = Record<string, LogValue>;

/** Where lines go besides stderr (the log file). Receives the complete, redacted line. */
export interface LogSink {
  write(line: string): void;
}

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
  format: LogFormat;
  /** Optional second destination (the log file); gets every line that passes the level. */
  sink: LogSink | undefined;
  error(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  debug(message: string, fields?: LogFields): void;
  enabled(level: LogLevel): boolean;
}

export function createLogger(level: LogLevel = 'warn', write: (line: string) => void = writeStderr, format: LogFormat = 'text'): Logger {
  const logger: Logger = {
    level,
    format,
    sink: undefined,
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
    const key = `${l}\u0000${message}\u0000${fields === undefined ? '' : formatText(l, '', fields)}`;
    if (written.has(key)) return;
    written.add(key);
    const now = new Date();
    const line = redact(logger.format === 'json' ? formatJson(now, l, message, fields) : formatText(l, message, fields));
    write(line);
    if (logger.sink) {
      try {
        // Text lines on stderr carry no time (the kubelet adds its own); a file needs one.
        logger.sink.write(logger.format === 'json' ? line : `${now.toISOString()} ${line}`);
      } catch (error) {
        // The log file is best effort: never fail an invocation over it. A file refused for
        // safety is said once, on stderr, and not tried again.
        if (error instanceof Error && error.name === 'LogFileRefused') {
          logger.sink = undefined;
          emit('warn', error.message);
        }
      }
    }
  }
  return logger;
}

export function formatText(level: LogLevel, message: string, fields?: LogFields): string {
  let line = `${PROGRAM}: ${level}: ${oneLine(message)}`;
  for (const [key, value] of Object.entries(fields ?? {})) {
    if (value === undefined) continue;
    line += ` ${key}=${oneLine(typeof value === 'object' ? textList(value) : String(value))}`;
  }
  return line;
}

/** `[{action:'A', outcome:'ok', ms: 12}]` → `A:ok:12ms` (values joined by ':', a trailing ms unit). */
function textList(list: ReadonlyArray<Readonly<Record<string, string | number>>>): string {
  return list.map((item) => Object.entries(item).map(([k, v]) => (k === 'ms' ? `${v}ms` : String(v))).join(':')).join(',');
}

export function formatJson(time: Date, level: LogLevel, message: string, fields?: LogFields): string {
  const doc: Record<string, unknown> = { time: time.toISOString(), level, msg: oneLine(message) };
  for (const [key, value] of Object.entries(fields ?? {})) {
    // The three fixed keys cannot be overwritten by a field.
    if (value !== undefined && !(key in doc)) doc[key] = typeof value === 'string' ? oneLine(value) : value;
  }
  doc.program = PROGRAM;
  doc.pid = process.pid;
  return JSON.stringify(doc);
}

/** Collapses newlines so a multi-line cause can never turn into several log lines. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

function writeStderr(line: string): void {
  process.stderr.write(`${line}\n`);
}
