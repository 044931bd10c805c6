/**
 * Parameter Store, for `/systemsmanager/parameters/get`: GetParameter through
 * the SDK's SSM client (per role when `roleArn` is used), answered in the
 * shape the AWS Parameters and Secrets Lambda Extension gives, and cached as
 * secrets are, in a cache of its own. Loaded only when `parameter_store` is
 * on, so the agent does not carry the SSM client otherwise.
 *
 * @module
 */

import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import type { CacheSource, Fetched } from "../cache/cache.ts";
import type { ParameterLookup } from "../http/request.ts";
import { RoleClients } from "./role_clients.ts";
import type { AwsCalls } from "./aws_calls.ts";

/** A parameter request: the lookup without `refreshNow`. */
export type ParameterRequest = Omit<ParameterLookup, "refreshNow">;

/** The GetParameter fields the agent answers with. */
export interface ParameterValue {
  readonly name: string;
  readonly type: string;
  readonly value: string;
  readonly version: number;
  /** `:3` or `:label` when the request named one. */
  readonly selector?: string;
  readonly sourceResult?: string;
  /** Epoch milliseconds. */
  readonly lastModifiedMs?: number;
  readonly arn: string;
  readonly dataType: string;
}

/** The Parameter Store client, on the shared settings, roles and reporting of `aws_calls.ts`. */
export interface ParametersClient {
  getParameter(request: ParameterRequest): Promise<ParameterValue>;
  destroy(): void;
}

/** Builds the SSM clients (one for the agent's own credentials, one per role as used). */
export function createParametersClient(aws: AwsCalls): ParametersClient {
  const ssm = new SSMClient(aws.sdkConfig);
  const roles = new RoleClients(
    aws.maxAssumedRoles,
    (roleArn) =>
      new SSMClient({
        ...aws.sdkConfig,
        credentials: () => aws.roleCredentials(roleArn)(),
      }),
  );
  return {
    async getParameter(request) {
      const client = request.roleArn === undefined
        ? ssm
        : roles.get(request.roleArn);
      const out = await aws.call("GetParameter", () =>
        client.send(
          new GetParameterCommand({
            Name: `${request.name}${selectorOf(request)}`,
            WithDecryption: request.withDecryption,
          }),
        ));
      const parameter = out.Parameter ?? {};
      return {
        name: parameter.Name ?? request.name,
        type: parameter.Type ?? "",
        value: parameter.Value ?? "",
        version: parameter.Version ?? 0,
        arn: parameter.ARN ?? "",
        dataType: parameter.DataType ?? "text",
        ...(parameter.Selector ? { selector: parameter.Selector } : {}),
        ...(parameter.SourceResult
          ? { sourceResult: parameter.SourceResult }
          : {}),
        ...(parameter.LastModifiedDate
          ? { lastModifiedMs: parameter.LastModifiedDate.getTime() }
          : {}),
      };
    },
    destroy() {
      roles.destroy();
      ssm.destroy();
    },
  };
}

/** `:<version>` or `:<label>`, as GetParameter takes them appended to the name. */
function selectorOf(request: ParameterRequest): string {
  if (request.version !== undefined) return `:${request.version}`;
  if (request.label !== undefined) return `:${request.label}`;
  return "";
}

/**
 * The Lambda extension's answer: GetParameter's output with its keys in
 * order, absent ones null, the date in ISO 8601.
 */
export function toParameterBody(value: ParameterValue): string {
  return JSON.stringify({
    Parameter: {
      ARN: value.arn,
      DataType: value.dataType,
      LastModifiedDate: value.lastModifiedMs === undefined
        ? null
        : new Date(value.lastModifiedMs).toISOString(),
      Name: value.name,
      Selector: value.selector ?? null,
      SourceResult: value.sourceResult ?? null,
      Type: value.type,
      Value: value.value,
      Version: value.version,
    },
    ResultMetadata: {},
  });
}

/**
 * Parameters as the cache takes them: keyed by everything that changes the
 * answer (decryption included); renewed by fetching again, as Parameter
 * Store has no cheaper version check.
 */
export function parametersCacheSource(
  client: ParametersClient,
): CacheSource<ParameterLookup> {
  return {
    keyOf: (lookup) =>
      JSON.stringify([
        lookup.name,
        lookup.version ?? null,
        lookup.label ?? null,
        lookup.withDecryption,
        lookup.roleArn ?? null,
      ]),
    async fetch(lookup): Promise<Fetched> {
      const { refreshNow: _, ...request } = lookup;
      const value = await client.getParameter(request);
      return { versionId: String(value.version), body: toParameterBody(value) };
    },
  };
}
