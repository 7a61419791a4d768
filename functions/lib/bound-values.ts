/**
 * The SST secrets and parameters bound to this function, read on its first invocation and kept
 * for the container's life. SST binds each as `SST_Secret_value_<NAME>` (or
 * `SST_Parameter_value_<NAME>`): either the value itself or "__FETCH_FROM_SSM__", meaning the value
 * is the SSM parameter `<SST_SSM_PREFIX>Secret/<NAME>/value`, or the app's fallback
 * `/sst/<app>/.fallback/Secret/<NAME>/value` when the stage sets none.
 *
 * Why not `sst/node/config`: it fetches every bound value from SSM with a top-level await when
 * the module is imported, so each cold start waits on SSM before the handler is even defined, and
 * it carries its own SSM client. Here Powertools Parameters fetches them in one GetParameters
 * call, only when a handler first asks, and nothing is read at import.
 */
import { getParametersByName } from "@aws-lambda-powertools/parameters/ssm";

const FETCH_FROM_SSM = "__FETCH_FROM_SSM__";
const BINDING = /^SST_(Secret|Parameter)_value_(.+)$/;

/** Bound values by name (TOKEN_SIGNING_KEY, SENDER, a team's Slack variable, …). */
export type BoundValues = Readonly<Record<string, string>>;

/** Reads SSM parameters by path; the paths it could not read come back in `missing`. */
export type SsmFetch = (paths: string[]) => Promise<{ values: Record<string, string>; missing: string[] }>;

/** A bound secret has no value on this stage, nor a fallback for the app. */
export class SecretNotSetError extends Error {
  override readonly name = "SecretNotSetError";
  constructor(
    readonly names: string[],
    stage: string | undefined,
  ) {
    super(
      `These secrets have no value on the stage "${stage ?? "?"}": ${names.join(", ")}. ` +
        `Set each with npx sst secrets set <NAME> <value> --stage ${stage ?? "<stage>"}, then invoke again.`,
    );
  }
}

/** Powertools Parameters: one GetParameters call per ten names, decrypted, errors returned rather than thrown. */
export const fetchFromSsm: SsmFetch = async (paths) => {
  if (paths.length === 0) return { values: {}, missing: [] };
  const { _errors: missing = [], ...values } = await getParametersByName<string>(
    Object.fromEntries(paths.map((path) => [path, {}])),
    { decrypt: true, throwOnError: false, maxAge: 0 },
  );
  return { values: values as Record<string, string>, missing };
};

/** Reads every value bound to this function: the plain ones from the environment, the rest from SSM. */
export async function readBoundValues(source: Record<string, string | undefined> = process.env, fetch: SsmFetch = fetchFromSsm): Promise<BoundValues> {
  const values: Record<string, string> = {};
  const fromSsm: { kind: string; name: string }[] = [];
  for (const [variable, value] of Object.entries(source)) {
    const match = BINDING.exec(variable);
    if (!match || value === undefined) continue;
    const [, kind = "", name = ""] = match;
    if (value === FETCH_FROM_SSM) fromSsm.push({ kind, name });
    else values[name] = value;
  }
  if (fromSsm.length === 0) return values;

  const prefix = source.SST_SSM_PREFIX ?? `/sst/${source.SST_APP}/${source.SST_STAGE}/`;
  const pathOf = ({ kind, name }: { kind: string; name: string }) => `${prefix}${kind}/${name}/value`;
  const fallbackOf = ({ kind, name }: { kind: string; name: string }) => `/sst/${source.SST_APP}/.fallback/${kind}/${name}/value`;
  const first = await fetch(fromSsm.map(pathOf));
  const unset = fromSsm.filter((binding) => first.values[pathOf(binding)] === undefined);
  // Only secrets have an app-wide fallback; a parameter without a stage value is simply missing.
  const fallbackPaths = unset.filter((b) => b.kind === "Secret").map(fallbackOf);
  const fallback = fallbackPaths.length > 0 ? await fetch(fallbackPaths) : { values: {} as Record<string, string>, missing: [] };
  for (const binding of fromSsm) {
    const value = first.values[pathOf(binding)] ?? fallback.values[fallbackOf(binding)];
    if (value !== undefined) values[binding.name] = value;
  }
  const missing = unset.filter((b) => b.kind === "Secret" && values[b.name] === undefined).map((b) => b.name);
  if (missing.length > 0) throw new SecretNotSetError(missing, source.SST_STAGE);
  return values;
}
