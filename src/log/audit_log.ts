/**
 * The audit log: one line per secret or parameter answered, since reads
 * served from the cache never reach CloudTrail. Who asked cannot be known
 * (any local process with the token may), so a line holds the time (the log
 * line's own), what was asked, the version served, the status and the cache
 * outcome, as one JSON object that log shippers can parse.
 *
 * The audit file rotates on its own budget (its own size and archive count;
 * the main log's archives are named apart, so its rotation never prunes
 * these), refused requests never reach it, and what it writes is bounded
 * by `audit_budget.ts`, so no flood of answers can rotate its archives away
 * quickly.
 *
 * @module
 */

import { AuditBudget, type AuditBudgetOptions } from "./audit_budget.ts";
import type { Config } from "../config/config.ts";
import { consoleLogger, type Logger, openFileLogger } from "./logger.ts";
import type { AuditEvent } from "../http/handler_services.ts";

/** The audit log's file name, beside the agent's log. */
export const AUDIT_LOG_FILE_NAME = "secrets_manager_agent_audit.log";
/** Size at which the audit file is rotated: 10 MiB, as the main log. */
export const AUDIT_MAX_BYTES = 10 * 1024 * 1024;
/** Rotated audit files kept, apart from the main log's. */
export const AUDIT_MAX_FILES = 5;

/** Options of {@linkcode openAuditLog}; the defaults are the agent's. */
export interface AuditLogOptions {
  /** The audit log's write budget (clock, timers, rates). */
  readonly budget?: Omit<AuditBudgetOptions, "write">;
  /** Folder of the audit file. Default `./logs`. */
  readonly directory?: string;
  /** Size at which the audit file is rotated. Default {@linkcode AUDIT_MAX_BYTES}. */
  readonly maxBytes?: number;
}

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

/**
 * The audit log beside the agent's log (or on stdout), whatever the log
 * level, written within its budget; closing `log` writes the counts still
 * pending.
 */
export function openAuditLog(
  config: Pick<Config, "logToFile">,
  token: string,
  options: AuditLogOptions = {},
): { log: Logger; record: (event: AuditEvent) => void } {
  const output = config.logToFile
    ? openFileLogger({
      level: "INFO",
      directory: options.directory,
      fileName: AUDIT_LOG_FILE_NAME,
      maxBytes: options.maxBytes ?? AUDIT_MAX_BYTES,
      maxFiles: AUDIT_MAX_FILES,
      redactions: [token],
    })
    : consoleLogger({ level: "INFO", redactions: [token] });
  const budget = new AuditBudget({
    ...options.budget,
    write: (line) => output.info(line),
  });
  const log: Logger = {
    ...output,
    close: () => {
      budget.flush();
      return output.close();
    },
  };
  return {
    log,
    record: (event) => budget.add(auditRecord(event), event.status),
  };
}
