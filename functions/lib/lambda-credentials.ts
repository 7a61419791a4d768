/**
 * What the AWS SDK clients bundled into a leadloop Lambda use in place of the SDK's default
 * credential chain (`@aws-sdk/credential-provider-node`): infra/bundling.ts aliases that package to
 * this module. Lambda hands every function its role's credentials in the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), the first link of the default
 * chain; the other links (SSO, ini files, credential processes, web identity, container and
 * instance metadata, with the STS and SSO clients they carry) never answer in Lambda, yet they
 * were about 100 KB of every bundle. Region still comes from AWS_REGION. The local stack and the
 * tests run the sources, where the clients keep the credentials they are given.
 */
import { fromEnv } from "@aws-sdk/credential-provider-env";

type FromEnvInit = Parameters<typeof fromEnv>[0];

/** The one export the SDK clients import from the default chain, with its signature: they call it with their logger. */
export const defaultProvider = (init: FromEnvInit = {}) => fromEnv(init);

