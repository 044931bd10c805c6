/**
 * The audit log: one line per secret or parameter answered, since reads
 * served from the cache never reach CloudTrail. Who asked cannot be known
 * (any local process with the token may), so a line holds the time (the log
 * line's own), what was asked, the version served, the status and the cache
 * outcome, as one JSON object that log shippers can parse.
 *
 * @module
 */

import type { Config } from "./config.ts";
import { consoleLogger, type Logger, openFileLogger } from "./logger.ts";
import type { AuditEvent } from "./server.ts";

/** The audit log's file name, beside the agent's log. */
export const AUDIT_LOG_FILE_NAME = "secrets_manager_agent_audit.log";

/** The JSON object of one audit line; absent fields are left out. */
export function auditRecord(event: AuditEvent): string {
  return JSON.stringify({
    kind: event.kind,
    id: event.id,
    ...(event.roleArn === undefined ? {} : { roleArn: event.roleArn }),
    ...(event.versionId === undefined ? {} : { versionId: event.versionId }),
    status: event.status,
    cache: event.outcome,
  });
}

/** The audit log beside the agent's log (or on stdout), whatever the log level. */
export function openAuditLog(
  config: Config,
  token: string,
): { log: Logger; record: (event: AuditEvent) => void } {
  const log = config.logToFile
    ? openFileLogger({
      level: "INFO",
      fileName: AUDIT_LOG_FILE_NAME,
      redactions: [token],
    })
    : consoleLogger({ level: "INFO", redactions: [token] });
  return { log, record: (event) => log.info(auditRecord(event)) };
}
