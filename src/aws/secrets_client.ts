/**
 * Secrets Manager through the AWS SDK: GetSecretValue and DescribeSecret
 * (per role when `roleArn` is used), and what the start-up checks ask (the
 * region, the endpoint, STS GetCallerIdentity). Calls go through
 * `aws_calls.ts`, which reports and classifies them.
 *
 * @module
 */

import {
  DescribeSecretCommand,
  type Filter,
  GetSecretValueCommand,
  ListSecretsCommand,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { GetCallerIdentityCommand } from "@aws-sdk/client-sts";
import { type AwsCalls, errorText } from "./aws_calls.ts";
import { UpstreamError } from "../errors.ts";
import { RoleClients } from "./role_clients.ts";
import type {
  SecretPayload,
  SecretRequest,
  SecretsSource,
  SecretValue,
  VersionStages,
} from "../cache/secret_value.ts";
import type { ListedSecret, TagFilter } from "../cache/tag_discovery.ts";

/** ListSecrets pages of 100, at most this many: 10,000 secrets a filter. */
const MAX_LIST_PAGES = 100;

/** An endpoint URL the environment or shared config set for a service. */
export interface ConfiguredEndpoint {
  readonly service: "Secrets Manager" | "STS";
  readonly url: string;
}

/** SecretsSource backed by the SDK, plus the start-up checks. */
export interface SecretsClient extends SecretsSource {
  /** The region the SDK settled on; rejects if none can be found. */
  region(): Promise<string>;
  /** Where Secrets Manager calls go, as the SDK resolves it, for the start-up log. */
  endpoint(): Promise<string>;
  /**
   * The endpoint URLs set through `AWS_ENDPOINT_URL*` or the shared config
   * file, by service; the SDK refuses them together with FIPS endpoints.
   */
  configuredEndpoints(): Promise<readonly ConfiguredEndpoint[]>;
  /** STS GetCallerIdentity; rejects with `UpstreamError`. */
  validateCredentials(): Promise<void>;
  /**
   * ListSecrets narrowed to `filter`'s tag key and values, with the filter's
   * role if any; Secrets Manager matches them as prefixes, so the caller
   * still checks each secret's tags. Rejects with `UpstreamError`.
   */
  listSecrets(filter: TagFilter): Promise<readonly ListedSecret[]>;
  /** Releases sockets, its own and the shared ones, so the process can exit. */
  destroy(): void;
}

/**
 * The Secrets Manager client for the agent's own credentials and one per
 * role as used (at most `maxAssumedRoles`), on the shared settings of `aws`.
 */
export function createSecretsClient(aws: AwsCalls): SecretsClient {
  const { call, sts } = aws;
  const secrets = new SecretsManagerClient(aws.sdkConfig);
  const roles = new RoleClients(
    aws.maxAssumedRoles,
    (roleArn) =>
      new SecretsManagerClient({
        ...aws.sdkConfig,
        credentials: () => aws.roleCredentials(roleArn)(),
      }),
  );
  const secretsFor = (roleArn: string | undefined) =>
    roleArn === undefined ? secrets : roles.get(roleArn);

  return {
    async getSecretValue(request: SecretRequest): Promise<SecretValue> {
      const out = await call(
        "GetSecretValue",
        () =>
          secretsFor(request.roleArn).send(
            new GetSecretValueCommand({
              SecretId: request.secretId,
              VersionId: request.versionId,
              VersionStage: request.versionStage,
            }),
          ),
      );
      return {
        arn: out.ARN ?? "",
        name: out.Name ?? "",
        versionId: out.VersionId ?? "",
        ...payloadOf(out),
        versionStages: out.VersionStages ?? [],
        ...(out.CreatedDate
          ? { createdDateMs: out.CreatedDate.getTime() }
          : {}),
      };
    },
    async describeSecret(
      secretId: string,
      roleArn?: string,
    ): Promise<VersionStages> {
      const out = await call("DescribeSecret", () =>
        secretsFor(roleArn).send(
          new DescribeSecretCommand({ SecretId: secretId }),
        ));
      return out.VersionIdsToStages ?? {};
    },
    async region(): Promise<string> {
      try {
        return await secrets.config.region();
      } catch (error) {
        throw new UpstreamError({
          kind: "internal",
          detail: errorText(error),
        }, { cause: error });
      }
    },
    async endpoint(): Promise<string> {
      const configured = await secrets.config.serviceConfiguredEndpoint?.();
      if (configured !== undefined) return configured;
      const resolved = secrets.config.endpointProvider({
        Region: await secrets.config.region(),
        UseFIPS: await secrets.config.useFipsEndpoint(),
        UseDualStack: await secrets.config.useDualstackEndpoint(),
      });
      return resolved.url.href;
    },
    async configuredEndpoints(): Promise<readonly ConfiguredEndpoint[]> {
      const found: ConfiguredEndpoint[] = [];
      const smUrl = await secrets.config.serviceConfiguredEndpoint?.();
      if (smUrl !== undefined) {
        found.push({ service: "Secrets Manager", url: smUrl });
      }
      const stsUrl = await sts.config.serviceConfiguredEndpoint?.();
      if (stsUrl !== undefined) found.push({ service: "STS", url: stsUrl });
      return found;
    },
    async listSecrets(filter: TagFilter): Promise<readonly ListedSecret[]> {
      const filters: Filter[] = [{ Key: "tag-key", Values: [filter.key] }];
      if (filter.values !== undefined) {
        filters.push({ Key: "tag-value", Values: [...filter.values] });
      }
      const listed: ListedSecret[] = [];
      let nextToken: string | undefined;
      for (let page = 0; page < MAX_LIST_PAGES; page++) {
        const out = await call(
          "ListSecrets",
          () =>
            secretsFor(filter.roleArn).send(
              new ListSecretsCommand({
                Filters: filters,
                MaxResults: 100,
                NextToken: nextToken,
              }),
            ),
        );
        for (const entry of out.SecretList ?? []) {
          if (entry.Name === undefined) continue;
          listed.push({
            name: entry.Name,
            tags: (entry.Tags ?? []).map((tag) => ({
              key: tag.Key ?? "",
              value: tag.Value ?? "",
            })),
          });
        }
        nextToken = out.NextToken;
        if (nextToken === undefined) break;
      }
      return listed;
    },
    async validateCredentials(): Promise<void> {
      await call(
        "GetCallerIdentity",
        () => sts.send(new GetCallerIdentityCommand({})),
      );
    },
    destroy(): void {
      roles.destroy();
      secrets.destroy();
      aws.destroy();
    },
  };
}

/** The answer's value; AWS always sends one, so an answer without is refused. */
function payloadOf(
  out: { SecretString?: string; SecretBinary?: Uint8Array },
): SecretPayload {
  if (out.SecretString !== undefined) return { secretString: out.SecretString };
  if (out.SecretBinary !== undefined) {
    return { secretBinary: toBase64(out.SecretBinary) };
  }
  throw new UpstreamError({
    kind: "internal",
    detail: "GetSecretValue answered without SecretString or SecretBinary",
  });
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
